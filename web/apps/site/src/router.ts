import { createRouter, createWebHistory } from 'vue-router'
import LandingView from './views/landing/LandingView.vue'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'landing', component: LandingView },
    // The signup screens load on demand so the landing stays small.
    { path: '/signup', name: 'signup', component: () => import('./views/signup/SignupView.vue') },
    { path: '/signup/:signupId', name: 'signup-progress', component: () => import('./views/signup/SignupProgressView.vue'), props: true },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  scrollBehavior: () => ({ top: 0 }),
})
