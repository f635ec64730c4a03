import { createRouter, createWebHistory } from 'vue-router'
import LandingView from './views/landing/LandingView.vue'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'landing', component: LandingView },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})
