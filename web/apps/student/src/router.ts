import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/home/HomeView.vue'
import { session } from './api'
import { safeRedirect } from '@paotui/mobile'

// Home and sign-in are in the first load; the rest loads when first opened.
export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'home', component: HomeView, meta: { tab: 'home' } },
    { path: '/login', name: 'login', component: () => import('./views/login/LoginView.vue') },
    { path: '/new/:taskType', name: 'new-order', component: () => import('./views/order/OrderFormView.vue'), meta: { auth: true } },
    { path: '/orders', name: 'orders', component: () => import('./views/orders/MyOrdersView.vue'), meta: { auth: true, tab: 'orders' } },
    { path: '/orders/:id', name: 'order', component: () => import('./views/orders/OrderDetailView.vue'), meta: { auth: true } },
    { path: '/me', name: 'me', component: () => import('./views/wallet/WalletView.vue'), meta: { auth: true, tab: 'me' } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

/** Pages that need a sign-in send a signed-out student to it, and back afterwards. */
/** The parts of a route the guard reads (a resolved or a normalized location has them). */
export interface GuardedRoute {
  meta: Record<string, unknown>
  name?: unknown
  fullPath: string
  query: Record<string, unknown>
}

export function authGuard(to: GuardedRoute, signedIn: boolean) {
  if (to.meta.auth && !signedIn) return { name: 'login', query: { redirect: to.fullPath } }
  if (to.name === 'login' && signedIn) return { path: safeRedirect(to.query.redirect) }
  return true
}

router.beforeEach((to) => authGuard(to, session.signedIn))

// A session the server ended (refresh refused) returns the student to sign-in from any page.
session.subscribe((tokens, reason) => {
  if (tokens === null && reason === 'refresh_rejected' && router.currentRoute.value.meta.auth) {
    void router.replace({ name: 'login', query: { redirect: router.currentRoute.value.fullPath } })
  }
})

// After a deploy, a page opened earlier asks for chunks that no longer exist: load the target
// page afresh instead of leaving the student on a page that does nothing.
router.onError((error: unknown, to) => {
  const message = error instanceof Error ? error.message : String(error)
  if (/dynamically imported module|Importing a module script failed|error loading dynamically/i.test(message)) {
    window.location.assign(to.fullPath)
  }
})
