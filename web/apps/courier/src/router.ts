import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router'
import { session } from './api'
import { useCourier } from './stores/courier'

declare module 'vue-router' {
  interface RouteMeta {
    /** Open without signing in. */
    public?: boolean
    /** Only for approved couriers; others are sent to their application. */
    courier?: boolean
  }
}

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', redirect: '/hall' },
    { path: '/login', name: 'login', component: () => import('./views/login/LoginView.vue'), meta: { public: true } },
    { path: '/me', name: 'me', component: () => import('./views/apply/ApplyView.vue') },
    { path: '/hall', name: 'hall', component: () => import('./views/hall/HallView.vue'), meta: { courier: true } },
    { path: '/offers', name: 'offers', component: () => import('./views/offers/OffersView.vue'), meta: { courier: true } },
    { path: '/trips', name: 'trips', component: () => import('./views/trips/TripsView.vue'), meta: { courier: true } },
    { path: '/trips/:id', name: 'trip', component: () => import('./views/trips/TripView.vue'), meta: { courier: true } },
    { path: '/earnings', name: 'earnings', component: () => import('./views/earnings/EarningsView.vue'), meta: { courier: true } },
    { path: '/:rest(.*)*', redirect: '/hall' },
  ],
})

/** Where a navigation must go instead, or undefined to let it through. */
export async function guard(to: RouteLocationNormalized): Promise<string | { name: string; query?: Record<string, string> } | undefined> {
  if (to.meta.public) return session.signedIn && to.name === 'login' ? '/hall' : undefined
  if (!session.signedIn) return { name: 'login', query: { next: to.fullPath } }
  if (!to.meta.courier) return undefined
  const courier = useCourier()
  // A failed load (offline) lets the screen show its own error rather than bouncing.
  if (!courier.loaded && (await courier.load())) return undefined
  return courier.profile?.status === 'approved' ? undefined : '/me'
}

router.beforeEach(guard)
