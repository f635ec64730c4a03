import { createRouter, createWebHistory } from 'vue-router'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'tenants', component: () => import('./views/tenants/TenantsView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})
