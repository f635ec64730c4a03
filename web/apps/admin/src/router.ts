import { createRouter, createWebHistory } from 'vue-router'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    // Views load on demand: the charts they use stay out of the first load.
    { path: '/', name: 'dashboard', component: () => import('./views/dashboard/DashboardView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})
