// Routes. Hash history: every screen is under /#/…, so Django and nginx serve one
// index.html at / and need no SPA fallback route (docs/pwa.md#routing).
import { createRouter, createWebHashHistory } from 'vue-router'
import { session } from './lib/http.js'

const routes = [
  { path: '/', redirect: '/todo' },
  { path: '/login', component: () => import('./views/Login.vue'), meta: { public: true } },
  { path: '/todo', component: () => import('./views/Tasks.vue'), meta: { tab: 'todo' } },
  { path: '/tasks/:id', component: () => import('./views/TaskDetail.vue'), props: true },
  { path: '/notifications', component: () => import('./views/Notifications.vue'), meta: { tab: 'notifications' } },
  { path: '/drafts', component: () => import('./views/Drafts.vue'), meta: { tab: 'drafts' } },
  { path: '/me', component: () => import('./views/Me.vue'), meta: { tab: 'me' } },
  { path: '/:pathMatch(.*)*', redirect: '/todo' },
]

export const router = createRouter({ history: createWebHashHistory(), routes })

router.beforeEach((to) => {
  if (!to.meta.public && !session.refresh) return { path: '/login', query: { next: to.fullPath } }
  if (to.path === '/login' && session.refresh) return '/todo'
})

window.addEventListener('govdesk:signed-out', () => {
  if (router.currentRoute.value.path !== '/login') router.replace('/login')
})
