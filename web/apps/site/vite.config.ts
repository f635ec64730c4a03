import { defineApp } from '../../vite.app'

export default defineApp({ name: 'site', base: '/', kit: 'none' })
