import { defineApp } from '../../vite.app'

export default defineApp({ name: 'courier', base: '/courier/', kit: 'vant' })
