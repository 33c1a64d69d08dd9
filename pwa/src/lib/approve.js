// One approval, from a tap to the server: optional passkey step-up, then the outbox.
// Docs: docs/pwa.md#passkeys and #offline-approvals.
import { ApiError, NetworkError, api, newIdempotencyKey, session } from './http.js'
import { enqueue } from './outbox.js'
import { t } from '../i18n/index.js'
import { getAssertion, passkeysSupported } from './webauthn.js'

const passkeyKey = () => `govdesk.hasPasskey.${session.user && session.user.id}`

export function rememberPasskeys(list) {
  localStorage.setItem(passkeyKey(), list && list.length ? '1' : '0')
}

// Whether to ask for a step-up: the person has at least one passkey (GET /me/passkeys/).
// Remembered, so an approval made offline does not wait for the network to decide.
export async function hasPasskey() {
  if (!passkeysSupported()) return false
  const remembered = localStorage.getItem(passkeyKey())
  if (remembered !== null && !navigator.onLine) return remembered === '1'
  try {
    const page = await api.get('/api/v1/me/passkeys/')
    const list = Array.isArray(page) ? page : page.results || []
    rememberPasskeys(list)
    return list.length > 0
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false // no passkey API
    return remembered === '1'
  }
}

export class Cancelled extends Error {}

/**
 * Approve a task (empty body = the step's standard opinion, the one tap). Online with a
 * passkey: a WebAuthn assertion confirms it first. Offline, or when the step-up cannot
 * be fetched for lack of network, it is queued without one (allowed by the server,
 * recorded as not confirmed by passkey). Resolves with the outbox outcome.
 */
export async function approveTask(task, { opinion = '' } = {}) {
  // Whose approval this is, fixed now: a 401 below clears the session, and the queued
  // item must still belong to this person (sent after they sign in again).
  const userId = session.user && session.user.id
  if (userId === null || userId === undefined) throw new ApiError(401, 'not_authenticated', t('common.signIn'))
  const body = opinion ? { opinion } : {}
  if (navigator.onLine && (await hasPasskey())) {
    try {
      const { options, challenge_id } = await api.post(`/api/v1/tasks/${task.id}/step-up-options/`, {})
      const credential = await getAssertion(options)
      body.webauthn = { challenge_id, credential }
    } catch (error) {
      if (error && (error.name === 'NotAllowedError' || error.name === 'AbortError')) {
        throw new Cancelled(t('common.verifyCancelled'))
      }
      // No network, or signed out meanwhile: queued without a step-up, like offline.
      if (!(error instanceof NetworkError) && !(error instanceof ApiError && error.status === 401)) throw error
    }
  }
  return enqueue({
    userId,
    key: newIdempotencyKey(),
    taskId: task.id,
    title: (task.document && task.document.title) || `#${task.id}`,
    path: `/api/v1/tasks/${task.id}/approve/`,
    body: Object.keys(body).length ? body : null,
  })
}
