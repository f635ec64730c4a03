import { createRouter, createWebHistory } from 'vue-router'
import { session } from './api'
import { adoptImpersonation, isStaff, loadMe, me } from './auth'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    // Views load on demand: the charts they use stay out of the first load.
    { path: '/login', name: 'login', component: () => import('./views/login/LoginView.vue'), meta: { public: true } },
    { path: '/', name: 'dashboard', component: () => import('./views/dashboard/DashboardView.vue') },
    { path: '/orders', name: 'orders', component: () => import('./views/orders/OrdersView.vue') },
    { path: '/couriers', name: 'couriers', component: () => import('./views/couriers/CouriersView.vue') },
    { path: '/users', name: 'users', component: () => import('./views/users/UsersView.vue') },
    { path: '/staff', name: 'staff', component: () => import('./views/staff/StaffView.vue') },
    { path: '/settings/pricing', name: 'pricing', component: () => import('./views/settings/PricingView.vue') },
    { path: '/settings/business', name: 'business', component: () => import('./views/settings/BusinessView.vue') },
    { path: '/settings/branding', name: 'branding', component: () => import('./views/branding/BrandingView.vue') },
    { path: '/settings/task-types', name: 'taskTypes', component: () => import('./views/settings/tasktypes/TaskTypesView.vue') },
    { path: '/settings/places', name: 'places', component: () => import('./views/settings/places/PlacesView.vue') },
    { path: '/finance', name: 'finance', component: () => import('./views/finance/FinanceView.vue') },
    { path: '/billing', name: 'billing', component: () => import('./views/billing/BillingView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (typeof location !== 'undefined' && location.hash) adoptImpersonation(location.hash, (u) => history.replaceState(null, '', u))
  if (to.meta.public) return true
  if (!session.signedIn) return { name: 'login', query: { next: to.fullPath } }
  if (!me.value) await loadMe()
  if (!isStaff(me.value)) return { name: 'login', query: { next: to.fullPath } }
  return true
})

session.subscribe((tokens) => {
  if (!tokens && router.currentRoute.value.name !== 'login') void router.push({ name: 'login' })
})
