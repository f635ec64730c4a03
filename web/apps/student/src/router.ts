import { createRouter, createWebHistory } from 'vue-router'
import HomeView from './views/home/HomeView.vue'

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', name: 'home', component: HomeView },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})
