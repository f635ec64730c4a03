import '@paotui/theme/element-plus.css'
import { mountApp } from '@paotui/ui'
import App from './App.vue'
import { router } from './router'
import { platformEn, platformZhCN } from './messages'

void mountApp(App, {
  expect: 'platform',
  messages: [{ 'zh-CN': platformZhCN, en: platformEn }],
  setup: (app) => app.use(router),
  title: () => 'Paotui · Platform',
})
