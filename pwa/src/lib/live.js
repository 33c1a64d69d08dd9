// Live updates: badge counts and the notification stream (SSE with a stream ticket).
// Docs: docs/pwa.md#live-updates, docs/notifications.md (the channel's contract).
import { reactive } from 'vue'
import { api, session } from './http.js'

export const live = reactive({ todo: 0, overdue: 0, unread: 0, notifications: 0, connected: false })
const listeners = new Set()
let source = null
let retryTimer = null
let lastEventId = ''

export function onNotification(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

// The app icon's badge (待办 count) where the browser supports it; never required.
function setBadge(count) {
  if (!('setAppBadge' in navigator)) return
  const call = count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge()
  call.catch(() => {})
}

export async function refreshSummary() {
  if (!session.access) return
  try {
    const summary = await api.get('/api/v1/me/summary/')
    Object.assign(live, { todo: summary.todo, overdue: summary.overdue, unread: summary.unread })
    setBadge(summary.todo)
  } catch {
    /* offline: keep the last counts */
  }
  try {
    const n = await api.get('/api/v1/notifications/unread-count/')
    live.notifications = n.unread
  } catch {
    /* the notification centre may be absent on an older server */
  }
}

// EventSource cannot send an Authorization header, so a short-lived single-use ticket
// goes in the URL; a new ticket is fetched for every (re)connection.
export async function connectStream() {
  if (source || !session.access || typeof EventSource === 'undefined') return
  let ticket
  try {
    ticket = (await api.post('/api/v1/notifications/stream-ticket/', {})).ticket
  } catch {
    scheduleReconnect()
    return
  }
  const params = new URLSearchParams({ ticket })
  if (lastEventId) params.set('last_event_id', lastEventId)
  source = new EventSource('/api/v1/notifications/stream/?' + params.toString())
  source.onopen = () => (live.connected = true)
  source.addEventListener('notification', (event) => {
    lastEventId = event.lastEventId || lastEventId
    let item = null
    try {
      item = JSON.parse(event.data)
    } catch {
      return
    }
    for (const fn of listeners) fn(item)
    refreshSummary()
  })
  source.onerror = () => {
    // The ticket is single-use: the browser's own reconnect would be refused.
    disconnectStream()
    scheduleReconnect()
  }
}

function scheduleReconnect() {
  clearTimeout(retryTimer)
  retryTimer = setTimeout(() => connectStream(), navigator.onLine ? 5000 : 30000)
}

export function disconnectStream() {
  if (source) source.close()
  source = null
  live.connected = false
}
