import { defineApp } from '../../vite.app'

export default defineApp({ name: 'platform', base: '/', kit: 'element' })
