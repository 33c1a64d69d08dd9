// WebAuthn glue: the server's JSON options ↔ the browser's ArrayBuffers.
// Docs: docs/pwa.md#passkeys; the contract is py_webauthn's options_to_json on the
// server and RegistrationResponseJSON / AuthenticationResponseJSON back.

export const passkeysSupported = () =>
  typeof window !== 'undefined' && !!window.PublicKeyCredential && !!navigator.credentials

const b64urlToBuffer = (value) => {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/')
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4)
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0))
  return bytes.buffer
}

const bufferToB64url = (buffer) => {
  const bytes = new Uint8Array(buffer)
  let text = ''
  for (const b of bytes) text += String.fromCharCode(b)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const asObject = (options) => (typeof options === 'string' ? JSON.parse(options) : options)

export function creationOptions(json) {
  const options = asObject(json)
  if (PublicKeyCredential.parseCreationOptionsFromJSON) {
    return PublicKeyCredential.parseCreationOptionsFromJSON(options)
  }
  return {
    ...options,
    challenge: b64urlToBuffer(options.challenge),
    user: { ...options.user, id: b64urlToBuffer(options.user.id) },
    excludeCredentials: (options.excludeCredentials || []).map((c) => ({
      ...c,
      id: b64urlToBuffer(c.id),
    })),
  }
}

export function requestOptions(json) {
  const options = asObject(json)
  if (PublicKeyCredential.parseRequestOptionsFromJSON) {
    return PublicKeyCredential.parseRequestOptionsFromJSON(options)
  }
  return {
    ...options,
    challenge: b64urlToBuffer(options.challenge),
    allowCredentials: (options.allowCredentials || []).map((c) => ({
      ...c,
      id: b64urlToBuffer(c.id),
    })),
  }
}

export function credentialToJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON()
  const r = credential.response
  const response = { clientDataJSON: bufferToB64url(r.clientDataJSON) }
  if (r.attestationObject) {
    response.attestationObject = bufferToB64url(r.attestationObject)
    if (r.getTransports) response.transports = r.getTransports()
  } else {
    response.authenticatorData = bufferToB64url(r.authenticatorData)
    response.signature = bufferToB64url(r.signature)
    if (r.userHandle) response.userHandle = bufferToB64url(r.userHandle)
  }
  return {
    id: credential.id,
    rawId: bufferToB64url(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults(),
  }
}

export async function createPasskey(optionsJson) {
  const credential = await navigator.credentials.create({ publicKey: creationOptions(optionsJson) })
  return credentialToJSON(credential)
}

export async function getAssertion(optionsJson) {
  const credential = await navigator.credentials.get({ publicKey: requestOptions(optionsJson) })
  return credentialToJSON(credential)
}
