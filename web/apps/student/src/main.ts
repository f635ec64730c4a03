import '@paotui/theme/vant.css'
import { createPinia } from 'pinia'
import { mountApp } from '@paotui/ui'
import App from './App.vue'
import { router } from './router'
import { studentMessages } from './i18n'

void mountApp(App, {
  expect: 'tenant',
  messages: studentMessages,
  setup: (app) => {
    app.use(createPinia())
    app.use(router)
  },
  title: (boot) => boot.tenant?.branding.displayName ?? 'Paotui',
})
