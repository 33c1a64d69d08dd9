// Routes. Hash history: every screen is under /#/…, so Django and nginx serve one
// index.html at / and need no SPA fallback route (docs/pwa.md#routing).
import { createRouter, createWebHashHistory } from 'vue-router'
import { session } from './lib/http.js'

const routes = [
  { path: '/', redirect: '/todo' },
  { path: '/login', component: () => import('./views/Login.vue'), meta: { public: true } },
  { path: '/home', component: () => import('./views/Home.vue'), meta: { tab: 'home' } },
  { path: '/channels/:id', component: () => import('./views/ChannelNews.vue'), props: true },
  { path: '/posts/:id', component: () => import('./views/PostReader.vue'), props: true },
  { path: '/search', component: () => import('./views/Search.vue') },
  { path: '/todo', component: () => import('./views/Tasks.vue'), meta: { tab: 'todo' } },
  { path: '/tasks/:id', component: () => import('./views/TaskDetail.vue'), props: true },
  { path: '/notifications', component: () => import('./views/Notifications.vue'), meta: { tab: 'notifications' } },
  { path: '/drafts', component: () => import('./views/Drafts.vue'), meta: { tab: 'drafts' } },
  { path: '/documents/:id', component: () => import('./views/DocumentProgress.vue'), props: true, meta: { tab: 'drafts' } },
  { path: '/me', component: () => import('./views/Me.vue'), meta: { tab: 'me' } },
  { path: '/meetings', component: () => import('./views/Meetings.vue') },
  { path: '/meetings/:id', component: () => import('./views/Meeting.vue'), props: true },
  { path: '/mail', component: () => import('./views/Mail.vue'), meta: { tab: 'me' } },
  { path: '/schedule', component: () => import('./views/Schedule.vue'), meta: { tab: 'me' } },
  { path: '/contacts', component: () => import('./views/Contacts.vue'), meta: { tab: 'me' } },
  { path: '/journals', component: () => import('./views/Journals.vue') },
  { path: '/supervision', component: () => import('./views/Supervision.vue') },
  { path: '/supervision/:id', component: () => import('./views/SupervisionItem.vue'), props: true },
  { path: '/cameras', component: () => import('./views/Cameras.vue'), meta: { tab: 'me' } },
  { path: '/cameras/:id', component: () => import('./views/CameraPlayer.vue'), props: true, meta: { tab: 'me' } },
  { path: '/journals/:id', component: () => import('./views/JournalIssue.vue'), props: true },
  { path: '/:pathMatch(.*)*', redirect: '/todo' },
]

export const router = createRouter({ history: createWebHashHistory(), routes })

router.beforeEach((to) => {
  if (!to.meta.public && !session.refresh) return { path: '/login', query: { next: to.fullPath } }
  if (to.path === '/login' && session.refresh) return '/todo'
})

// The server refused the session (expired, revoked on another device): back to sign-in
// with 登录已失效，请重新登录 and the page to return to.
window.addEventListener('govdesk:signed-out', () => {
  const here = router.currentRoute.value
  if (here.path !== '/login') router.replace({ path: '/login', query: { next: here.fullPath, expired: '1' } })
})
