// Reading offline: a task's detail (document, trail), its page list and page images are
// kept in the Cache Storage of this device, per person, so a task opened once — or
// fetched ahead when the to-do list loads — opens and reads without a network.
// Docs: docs/pwa.md#reading-offline.
//
// Bounded: the newest MAX_TASKS tasks and MAX_BYTES in all; older ones are dropped.
// Removed entirely when the person signs out (lib/signout.js).
import { NetworkError, api, session } from './http.js'

export const MAX_TASKS = 15
export const MAX_BYTES = 25 * 1024 * 1024
export const AHEAD_PAGES = 6 // page images fetched ahead per task (360 px)
const CACHE_PREFIX = 'govdesk-reading-'
const indexKey = () => `govdesk.reading.${session.user && session.user.id}`

const cacheName = () => CACHE_PREFIX + (session.user && session.user.id)
const available = () => typeof caches !== 'undefined' && !!(session.user && session.user.id)

function loadIndex() {
  try {
    return JSON.parse(localStorage.getItem(indexKey())) || {}
  } catch {
    return {}
  }
}

// index: { taskId: { at, bytes, urls: [...] } }
// Still the same person (a sign-out may have happened while a copy was on its way).
const current = (name) => available() && cacheName() === name

async function remember(name, taskId, url, bytes) {
  if (!current(name)) return
  const index = loadIndex()
  const entry = index[taskId] || { at: 0, bytes: 0, urls: [] }
  if (!entry.urls.includes(url)) {
    entry.urls.push(url)
    entry.bytes += bytes
  }
  entry.at = Date.now()
  index[taskId] = entry
  await trim(name, index)
}

async function trim(name, index) {
  const ids = Object.keys(index).sort((a, b) => index[b].at - index[a].at)
  let total = 0
  const cache = await caches.open(name)
  for (const [i, id] of ids.entries()) {
    total += index[id].bytes
    if (i >= MAX_TASKS || total > MAX_BYTES) {
      for (const url of index[id].urls) await cache.delete(url)
      delete index[id]
    }
  }
  if (current(name)) localStorage.setItem(indexKey(), JSON.stringify(index))
}

// One write at a time, so the index (read, changed, written) loses no entry.
let writing = Promise.resolve()
function store(name, taskId, url, response) {
  writing = writing.then(async () => {
    if (!current(name)) return
    const body = await response.clone().blob()
    await (await caches.open(name)).put(url, response)
    await remember(name, taskId, url, body.size)
  }).catch(() => {})
  return writing
}

async function fromCache(url, blob) {
  if (!available()) return undefined
  const hit = await (await caches.open(cacheName())).match(url, { ignoreVary: true })
  if (!hit) return undefined
  return blob ? hit.blob() : hit.json()
}

/**
 * GET for reading: the network first (and the answer kept for taskId), the kept copy
 * when there is no network. `blob`: an image. Resolves { data, offline }.
 */
export async function readGet(taskId, url, { blob = false, headers } = {}) {
  const name = available() ? cacheName() : null
  try {
    const data = await api.get(url, { blob, headers })
    if (name) {
      const response = blob
        ? new Response(data, { headers: { 'Content-Type': data.type || 'application/octet-stream' } })
        : new Response(JSON.stringify(data), { headers: { 'Content-Type': 'application/json' } })
      store(name, taskId, url.replace(/[?&]read=0/, ''), response)
    }
    return { data, offline: false }
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error
    const kept = await fromCache(url.replace(/[?&]read=0/, ''), blob).catch(() => undefined)
    if (kept === undefined) throw error
    return { data: kept, offline: true }
  }
}

export const detailUrl = (taskId) => `/api/v1/tasks/${taskId}/`
export const pagesUrl = (documentId) => `/api/v1/documents/${documentId}/pages/`
const IMAGE_ACCEPT = { Accept: 'image/webp,image/png' }
export const imageHeaders = IMAGE_ACCEPT

// Kept means in the cache AND in the index. A page left between the two writes of
// store() (a reload mid fetch-ahead) leaves a copy the index does not list: index it
// now, or trim() would never drop it and the reading index would miss the task.
async function kept(name, taskId, url) {
  if (!current(name)) return false
  const hit = await (await caches.open(name)).match(url)
  if (!hit) return false
  const entry = loadIndex()[taskId]
  if (!entry || !entry.urls.includes(url)) {
    const size = (await hit.blob()).size
    writing = writing.then(() => remember(name, taskId, url, size)).catch(() => {})
    await writing
  }
  return true
}

/** Fetch ahead what reading `tasks` needs (the first MAX_TASKS), quietly, one at a time. */
export async function readAhead(tasks) {
  if (!available() || !navigator.onLine) return
  const name = cacheName()
  for (const task of tasks.slice(0, MAX_TASKS)) {
    if (!current(name)) return
    try {
      if (!(await kept(name, task.id, detailUrl(task.id)))) {
        await readGet(task.id, detailUrl(task.id) + '?read=0')
      }
      const pagesList = await readGet(task.id, pagesUrl(task.document.id)).catch(() => null)
      for (const page of (pagesList && pagesList.data.pages ? pagesList.data.pages : []).slice(0, AHEAD_PAGES)) {
        const url = page.image_urls['360']
        if (!(await kept(name, task.id, url))) await readGet(task.id, url, { blob: true, headers: IMAGE_ACCEPT })
      }
    } catch {
      /* the next time the list loads */
    }
  }
}

/** Every kept copy of every person on this device (sign-out). */
export async function forgetReading() {
  await writing
  if (typeof caches !== 'undefined') {
    for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX)) await caches.delete(name)
  }
  for (const key of Object.keys(localStorage)) if (key.startsWith('govdesk.reading.')) localStorage.removeItem(key)
}
