// 协同办公 GovDesk — the installable PWA. Docs: docs/pwa.md.
import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router.js'
import { i18n, installLocale } from './i18n/index.js'
import { startOutbox } from './lib/outbox.js'
import './styles.css'

import { applyTextSize } from './lib/prefs.js'

applyTextSize()

installLocale()
createApp(App).use(i18n).use(router).mount('#app')
startOutbox().catch(() => {})

// The service worker after the first paint, so it never competes with the app shell.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {})
  })
}
