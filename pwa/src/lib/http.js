// The API client: bearer tokens with refresh, the error envelope, Idempotency-Key.
// Docs: docs/pwa.md#talking-to-the-api, docs/identity.md (tokens), docs/api.md (errors).
import { reactive } from 'vue'
import { currentLocale, t } from '../i18n/index.js'

const STORE_KEY = 'govdesk.session'

export class ApiError extends Error {
  constructor(status, code, message, data) {
    super(message || code || `HTTP ${status}`)
    this.status = status
    this.code = code
    this.data = data
  }
}

// fetch() rejected: offline, DNS, connection reset. The request may or may not have
// reached the server, which is why every state change carries an Idempotency-Key.
export class NetworkError extends Error {
  constructor(cause, message) {
    super(message || t('common.networkDown'))
    this.cause = cause
  }
}

// No answer within REQUEST_TIMEOUT_MS (a dead connection on mobile data can hang for
// minutes): treated like no network, so a screen shows an error instead of a spinner
// that never ends, and a queued approval stays 待发送 and is retried with its key.
export const REQUEST_TIMEOUT_MS = 30_000
export class TimeoutError extends NetworkError {
  constructor(cause) {
    super(cause, t('common.timeout'))
  }
}

// fetch() that gives up when the response headers have not arrived in time.
async function fetchWithTimeout(url, init) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS)
  try {
    return await fetch(url, { ...init, signal: controller.signal })
  } catch (e) {
    throw controller.signal.aborted ? new TimeoutError(e) : new NetworkError(e)
  } finally {
    clearTimeout(timer)
  }
}

// An answer without the error envelope (a proxy's 502 page, an HTML 413): said plainly
// in the chosen language instead of a bare status code.
function fallbackMessage(status) {
  if (status >= 500) return t('common.serverDown', { status })
  if (status === 413) return t('common.tooLarge', { status })
  if (status === 429) return t('common.tooMany', { status })
  return t('common.failed', { status })
}

function loadSession() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY)) || {}
  } catch {
    return {}
  }
}

// The signed-in person and their tokens, kept across reloads so the app opens on the
// to-do list (and can send queued approvals) without signing in again.
export const session = reactive({ access: '', refresh: '', user: null, ...loadSession() })

export function saveLogin(result) {
  session.access = result.access
  session.refresh = result.refresh
  if (result.user) session.user = result.user
  localStorage.setItem(
    STORE_KEY,
    JSON.stringify({ access: session.access, refresh: session.refresh, user: session.user }),
  )
}

export function clearSession() {
  session.access = ''
  session.refresh = ''
  session.user = null
  localStorage.removeItem(STORE_KEY)
}

// The server refused the session (expired, revoked on another device). The reason is
// kept for this tab until the next sign-in, so a reload that lands before the router has
// moved to 登录 still says why the person was signed out.
const ENDED_KEY = 'govdesk.sessionEnded'

function endSession() {
  clearSession()
  try {
    sessionStorage.setItem(ENDED_KEY, '1')
  } catch {
    /* private mode: the ?expired=1 on the login route still says it */
  }
  window.dispatchEvent(new Event('govdesk:signed-out'))
}

export function sessionWasEnded() {
  try {
    return sessionStorage.getItem(ENDED_KEY) === '1'
  } catch {
    return false
  }
}

export function forgetEndedSession() {
  try {
    sessionStorage.removeItem(ENDED_KEY)
  } catch {
    /* nothing kept */
  }
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return 'pwa-' + crypto.randomUUID()
  return 'pwa-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12)
}

// Whether a failed request is worth sending again with the same key. The server
// remembers every 4xx answer for a key (api/common/idempotency.py) and answers it again
// on a retry, so a 4xx is final — except 401 (sign in again, then send), 408, 429 (slow
// down) and 409 `conflict` (the same key is still running on the server).
export function retryable(error) {
  if (!(error instanceof ApiError)) return true // NetworkError / TimeoutError: no answer
  if (error.status >= 500 || [401, 408, 429].includes(error.status)) return true
  return error.status === 409 && error.code === 'conflict'
}

function tokenExpiresSoon(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
    return payload.exp * 1000 - Date.now() < 20_000
  } catch {
    return true
  }
}

let refreshing = null

// One refresh at a time: the server rotates refresh tokens and a second concurrent
// refresh with the same token would be refused (docs/identity.md#tokens).
async function refreshTokens() {
  if (!session.refresh) throw new ApiError(401, 'not_authenticated', t('common.signIn'))
  if (!refreshing) {
    refreshing = (async () => {
      const response = await fetchWithTimeout('/api/v1/auth/token/refresh/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept-Language': currentLocale() },
        body: JSON.stringify({ refresh: session.refresh }),
      })
      const data = await response.json().catch(() => ({}))
      if (!response.ok) {
        const err = data.error || {}
        if (response.status === 401) endSession()
        throw new ApiError(response.status, err.code, err.message || fallbackMessage(response.status), data)
      }
      saveLogin(data)
    })().finally(() => {
      refreshing = null
    })
  }
  return refreshing
}

/**
 * request('GET', '/api/v1/tasks/') → parsed JSON (null for 204).
 * options: body (JSON), idempotencyKey, headers, auth (default true), blob (true: a Blob).
 */
export async function request(method, path, options = {}) {
  const { body, form, idempotencyKey, auth = true, blob = false } = options
  const send = async () => {
    // The server answers (error messages, names of things) in the app's chosen language.
    const headers = { Accept: 'application/json', 'Accept-Language': currentLocale(), ...(options.headers || {}) }
    if (auth && session.access) headers.Authorization = `Bearer ${session.access}`
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey
    const init = { method, headers }
    if (form !== undefined) {
      init.body = form // FormData: the browser sets multipart/form-data and its boundary
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json'
      init.body = JSON.stringify(body)
    }
    return fetchWithTimeout(path, init)
  }
  if (auth && session.refresh && (!session.access || tokenExpiresSoon(session.access))) {
    await refreshTokens().catch((e) => {
      if (e instanceof NetworkError) throw e
    })
  }
  let response = await send()
  if (response.status === 401 && auth && session.refresh) {
    await refreshTokens()
    response = await send()
  }
  if (response.status === 204) return null
  if (response.ok && blob) return response.blob()
  const data = await response.json().catch(() => null)
  if (!response.ok) {
    const err = (data && data.error) || {}
    if (response.status === 401 && auth) endSession()
    throw new ApiError(
      response.status,
      err.code || 'http_' + response.status,
      err.message || fallbackMessage(response.status),
      data,
    )
  }
  return data
}

export const api = {
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  patch: (path, body, opts = {}) => request('PATCH', path, { ...opts, body }),
  del: (path, opts) => request('DELETE', path, opts),
}

// Keys of requests not yet settled, by "path + JSON body". A tap again after a lost
// answer (timeout, connection reset) sends the SAME key, so the server replays its first
// answer instead of making a second draft or submitting twice; a changed form is another
// body, so a new request with a new key. Forgotten on success or a final refusal.
const unsettledKeys = new Map()

/** POST with one Idempotency-Key per distinct request until the server settles it. */
export async function postOnce(path, body) {
  const sameRequest = `${path}\n${JSON.stringify(body)}`
  if (!unsettledKeys.has(sameRequest)) unsettledKeys.set(sameRequest, newIdempotencyKey())
  try {
    const result = await api.post(path, body, { idempotencyKey: unsettledKeys.get(sameRequest) })
    unsettledKeys.delete(sameRequest)
    return result
  } catch (error) {
    if (!retryable(error)) unsettledKeys.delete(sameRequest)
    throw error
  }
}

// Keys of uploads not yet settled, per File object: sending the same chosen file again
// after a lost answer replays the first upload instead of attaching it twice.
const unsettledUploads = new WeakMap()

/** uploadOnce('/api/v1/documents/7/attachments/', file) → the created attachment. */
export async function uploadOnce(path, file) {
  if (!unsettledUploads.has(file)) unsettledUploads.set(file, newIdempotencyKey())
  const form = new FormData()
  form.append('file', file, file.name)
  try {
    const result = await request('POST', path, { form, idempotencyKey: unsettledUploads.get(file) })
    unsettledUploads.delete(file)
    return result
  } catch (error) {
    if (!retryable(error)) unsettledUploads.delete(file)
    throw error
  }
}

export function errorText(error) {
  if (error instanceof NetworkError) return error.message
  if (error instanceof ApiError) return error.message
  return String((error && error.message) || error)
}
