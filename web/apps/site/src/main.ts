import './style.css'
import { mountApp } from '@paotui/ui'
import App from './App.vue'
import { router } from './router'
import { siteMessages } from './messages'

void mountApp(App, {
  expect: 'base',
  messages: [siteMessages],
  setup: (app) => app.use(router),
  title: () => 'Paotui',
})
