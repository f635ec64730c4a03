import { createRouter, createWebHistory } from 'vue-router'
import { session } from './api'
import { admin, loadAdmin } from './auth'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/login/LoginView.vue'), meta: { public: true } },
    { path: '/', name: 'dashboard', component: () => import('./views/dashboard/DashboardView.vue') },
    { path: '/tenants', name: 'tenants', component: () => import('./views/tenants/TenantsView.vue') },
    { path: '/plans', name: 'plans', component: () => import('./views/plans/PlansView.vue') },
    { path: '/jobs', name: 'jobs', component: () => import('./views/jobs/JobsView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!session.signedIn) return { name: 'login', query: { next: to.fullPath } }
  if (!admin.value) await loadAdmin()
  if (!admin.value) return { name: 'login', query: { next: to.fullPath } }
  return true
})

session.subscribe((tokens) => {
  if (!tokens && router.currentRoute.value.name !== 'login') void router.push({ name: 'login' })
})
