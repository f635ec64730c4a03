import { defineApp } from '../../vite.app'

export default defineApp({ name: 'student', base: '/', kit: 'vant' })
