import { defineApp } from '../../vite.app'

export default defineApp({ name: 'admin', base: '/admin/', kit: 'element' })
