// 协同办公 GovDesk — the installable PWA. Docs: docs/pwa.md.
import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router.js'
import { startOutbox } from './lib/outbox.js'
import './styles.css'

if (localStorage.getItem('govdesk.largeFont') === '1') {
  document.documentElement.classList.add('large-font')
}

createApp(App).use(router).mount('#app')
startOutbox().catch(() => {})

// The service worker after the first paint, so it never competes with the app shell.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {})
  })
}
