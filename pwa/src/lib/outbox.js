// The offline queue (待发送): approvals wait in IndexedDB with their Idempotency-Key
// until the server confirms them. Docs: docs/pwa.md#offline-approvals.
//
// Every approval goes through here, online or not: it is stored first, then sent.
// So a tap whose answer is lost (tunnel, lift, flight mode) stays queued with the SAME
// key, and the retry is answered by the server as a replay — never a second approval.
// An item leaves the queue only when the server answered 2xx; until then the task
// shows 待发送 and never 已同意.
//
// Each item belongs to the person who queued it (`userId`, fixed when the tap happened,
// before any network call). A session that expired or was revoked (401, or 403 for a
// sign-in reason) keeps it queued — 待登录后发送 on the sign-in page — and it is sent,
// with the same key, right after that same person signs in again. Anyone else signing
// in on this phone never sees or sends it. Every item ends sent (2xx), refused with the
// reason shown (已被他人处理 …), or deleted by its owner.
import { ref } from 'vue'
import { NetworkError, request, retryable, session } from './http.js'

const DB_NAME = 'govdesk'
const STORE = 'outbox'
const RETRY_MS = 15_000

// Which refusals are worth retrying with the same key: retryable() in http.js. Anything
// final is shown plainly and kept until dismissed; it never waits as 待发送 for ever.

// Someone else acted (or the document was withdrawn): the plain "已被他人处理" notice.
const GONE_CODES = new Set(['task_not_open', 'not_found'])
// Refusals that mean "sign in (again), then send": kept queued for the same person.
const SIGN_IN_CODES = new Set(['mfa_setup_required', 'password_expired', 'network_not_allowed'])
export const needsSignIn = (error) =>
  error && (error.status === 401 || (error.status === 403 && SIGN_IN_CODES.has(error.code)))

export const outbox = ref([]) // every item of the signed-in person, oldest first
export const lastSynced = ref(null) // {taskId, title} of the last confirmed item

// Keys being sent right now: a tap, the `online` event and the timer must not send
// one item twice at once (the second would get 409 `conflict` and put back an item the
// first had just removed as confirmed).
const sending = new Set()

let dbPromise = null
function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1)
      open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'key' })
      open.onsuccess = () => resolve(open.result)
      open.onerror = () => reject(open.error)
    })
  }
  return dbPromise
}

async function tx(mode, work) {
  const database = await db()
  return new Promise((resolve, reject) => {
    const t = database.transaction(STORE, mode)
    const result = work(t.objectStore(STORE))
    t.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined)
    t.onerror = () => reject(t.error)
  })
}

// How many items on this phone still wait to be sent, whoever queued them: the sign-in
// page shows only this number (never titles or names) as 待登录后发送.
export const waitingCount = ref(0)

export async function refreshOutbox() {
  const all = (await tx('readonly', (s) => s.getAll())) || []
  waitingCount.value = all.filter((i) => i.status === 'pending').length
  const mine = session.user ? all.filter((i) => i.userId === session.user.id) : []
  outbox.value = mine.sort((a, b) => a.createdAt - b.createdAt)
  return outbox.value
}

const put = (item) => tx('readwrite', (s) => s.put(item))
export const removeItem = async (key) => {
  await tx('readwrite', (s) => s.delete(key))
  await refreshOutbox()
}

export function pendingFor(taskId) {
  return outbox.value.find((i) => i.taskId === taskId) || null
}

/**
 * Queue an action and try to send it now. Resolves with
 * {status: 'done', result} | {status: 'pending'} | {status: 'conflict'|'error', item}.
 */
export async function enqueue({ key, taskId, title, path, body, userId }) {
  // The owner is who was signed in when the tap happened (the caller captures it before
  // any network call: a 401 on the way clears the session).
  const owner = userId ?? (session.user && session.user.id)
  if (owner === null || owner === undefined) throw new Error('outbox: no signed-in owner')
  const item = {
    key, taskId, title, path, body: body ?? null,
    userId: owner,
    createdAt: Date.now(), status: 'pending', message: '', attempts: 0, needsSignIn: false,
  }
  sending.add(key)
  try {
    await put(item)
    await refreshOutbox()
    return await sendOne(item)
  } finally {
    sending.delete(key)
  }
}

async function sendOne(item) {
  // Only with the token of the person who made it: another person signed in on this
  // phone (or signed in meanwhile) must never send it in their name.
  if (!session.user || item.userId !== session.user.id) return { status: 'pending' }
  item.attempts += 1
  try {
    const options = { idempotencyKey: item.key }
    if (item.body !== null) options.body = item.body
    const result = await request('POST', item.path, options)
    item.needsSignIn = false
    await removeItem(item.key)
    lastSynced.value = { taskId: item.taskId, title: item.title, at: Date.now() }
    window.dispatchEvent(new CustomEvent('govdesk:synced', { detail: { item, result } }))
    return { status: 'done', result }
  } catch (error) {
    if (needsSignIn(error)) {
      // Signed out (expired, revoked) or a sign-in condition: held for this person.
      item.status = 'pending'
      item.needsSignIn = true
      item.message = ''
      await put(item)
      await refreshOutbox()
      return { status: 'pending', needsSignIn: true }
    }
    if (!retryable(error)) {
      item.status = GONE_CODES.has(error.code) || error.status === 404 ? 'conflict' : 'error'
      item.message = error.message
      item.code = error.code
      await put(item)
      await refreshOutbox()
      return { status: item.status, item }
    }
    // Offline, 5xx, 409 `conflict` (the same key still running), 429, a sign-in needed:
    // keep it pending and try again later with the same key.
    item.status = 'pending'
    item.needsSignIn = false
    item.message = error instanceof NetworkError ? '' : error.message
    await put(item)
    await refreshOutbox()
    return { status: 'pending' }
  }
}

let flushing = null
export function flush() {
  if (!session.user || !session.access) return Promise.resolve()
  if (!flushing) {
    flushing = (async () => {
      for (const item of await refreshOutbox()) {
        if (item.status !== 'pending' || sending.has(item.key)) continue
        sending.add(item.key)
        let outcome
        try {
          outcome = await sendOne(item)
        } finally {
          sending.delete(item.key)
        }
        if (outcome.status === 'pending' && !navigator.onLine) break
      }
    })().finally(() => {
      flushing = null
    })
  }
  return flushing
}

// Sent when the network comes back, every RETRY_MS while something waits, at start.
// Called at start and after every sign-in: the listener and the timer are set up once.
let started = false
export function startOutbox() {
  if (!started) {
    started = true
    window.addEventListener('online', () => flush())
    setInterval(() => {
      if (outbox.value.some((i) => i.status === 'pending')) flush()
    }, RETRY_MS)
  }
  return refreshOutbox().then(() => flush())
}
