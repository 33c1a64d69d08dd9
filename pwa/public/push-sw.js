/* Web Push handlers, imported into the generated service worker. Docs: docs/pwa.md#live-updates.
 * The payload is the notification list item JSON (docs/notifications.md); anything
 * unreadable still shows a generic notice, because a push must show something. */
self.addEventListener('push', (event) => {
  let item = {}
  try {
    item = event.data ? event.data.json() : {}
  } catch (e) {
    item = { title: event.data ? event.data.text() : '' }
  }
  const title = item.title || '协同办公 新通知'
  const url = item.task_id ? '/#/tasks/' + item.task_id : '/#/notifications'
  event.waitUntil(
    self.registration.showNotification(title, {
      body: item.body || 'You have a new notification',
      icon: '/icons/icon-192.png',
      badge: '/icons/maskable-192.png',
      tag: item.id ? 'n' + item.id : undefined,
      data: { url },
    }),
  )
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = (event.notification.data && event.notification.data.url) || '/'
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if ('focus' in w) {
          w.navigate(url)
          return w.focus()
        }
      }
      return self.clients.openWindow(url)
    }),
  )
})
