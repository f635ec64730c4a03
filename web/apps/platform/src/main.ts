import './style.css'
import { mountApp } from '@paotui/ui'
import App from './App.vue'
import { router } from './router'

void mountApp(App, {
  expect: 'platform',
  setup: (app) => app.use(router),
  title: () => 'Paotui · Platform',
})
