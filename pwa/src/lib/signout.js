// Signing out removes the person's data from this device: the session, every cached list
// and kept copy for reading (documents, trails, page images), queued items and per-person
// flags. Device settings (language, text size, undo window) stay. Docs: docs/pwa.md#sessions.
import { api, clearSession, session } from './http.js'
import { disconnectStream } from './live.js'
import { outbox, refreshOutbox, removeItem } from './outbox.js'
import { forgetReading } from './reading.js'

const DEVICE_SETTINGS = new Set(['govdesk.locale', 'govdesk.largeFont', 'govdesk.undoSeconds'])

export async function forgetUserData() {
  try {
    await refreshOutbox()
    for (const item of [...outbox.value]) await removeItem(item.key)
  } catch {
    /* no IndexedDB */
  }
  await forgetReading().catch(() => {})
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith('govdesk.') && !DEVICE_SETTINGS.has(key)) localStorage.removeItem(key)
  }
  for (const key of Object.keys(sessionStorage)) if (key.startsWith('govdesk.')) sessionStorage.removeItem(key)
  delete globalThis.__govdeskLists
}

/** Tell the server (when it can be reached), then forget everything of this person here. */
export async function signOut() {
  try {
    if (session.refresh) await api.post('/api/v1/auth/logout/', { refresh: session.refresh })
  } catch {
    /* signed out here anyway */
  }
  disconnectStream()
  await forgetUserData()
  clearSession()
  outbox.value = []
}
