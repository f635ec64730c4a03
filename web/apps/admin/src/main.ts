import '@paotui/theme/element-plus.css'
import { mountApp } from '@paotui/ui'
import App from './App.vue'
import { router } from './router'
import { adminMessages } from './i18n'

void mountApp(App, {
  expect: 'tenant',
  messages: adminMessages,
  setup: (app) => app.use(router),
  title: (boot) => `${boot.tenant?.branding.displayName ?? 'Paotui'} · Admin`,
})
