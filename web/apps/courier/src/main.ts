import '@paotui/theme/vant.css'
import { createPinia } from 'pinia'
import { mountApp } from '@paotui/ui'
import App from './App.vue'
import { router } from './router'
import { courierMessages } from './messages'

void mountApp(App, {
  expect: 'tenant',
  messages: courierMessages,
  // Pinia first: the router's guard reads the courier store.
  setup: (app) => app.use(createPinia()).use(router),
  title: (boot) => `${boot.tenant?.branding.displayName ?? 'Paotui'} · Courier`,
})
