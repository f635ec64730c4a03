// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defineComponent, h, type App as VueApp } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { mountApp } from '@paotui/ui'
import type { Boot } from '@paotui/theme'
import App from './App.vue'
import { studentMessages } from './i18n'

// The whole start-up chain of a surface (boot data -> theme -> i18n -> App), with Vant's
// bar stubbed (the kit is auto-imported only by the Vite build).
const NavBar = defineComponent({
  props: { title: String },
  setup: (props, { slots }) => () => h('header', { class: 'nav' }, [h('h1', props.title), slots.right?.()]),
})
const Notice = defineComponent({ props: { text: String }, setup: (props) => () => h('p', { class: 'notice' }, props.text) })

function boot(status: string, hold = ''): Boot {
  return {
    host: { kind: 'tenant' },
    tenant: {
      slug: 'pku',
      name: 'PKU',
      status,
      hold,
      branding: { displayName: '北大跑腿', primaryColor: '#8b0012', announcement: '期末周延长服务时间' },
    },
    locale: 'en',
    apiBase: '/api/v1',
  }
}

async function start(b: Boot): Promise<VueApp> {
  window.__PAOTUI__ = b
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { render: () => h('p', 'home') } }] })
  const { app } = await mountApp(App, {
    expect: 'tenant',
    messages: studentMessages,
    setup: (a) => {
      a.use(router)
      a.component('VanNavBar', NavBar)
      a.component('VanNoticeBar', Notice)
    },
  })
  await router.isReady()
  return app
}

describe('student app start-up', () => {
  let app: VueApp | undefined
  beforeEach(() => {
    localStorage.clear()
    document.body.innerHTML = '<div id="app"></div>'
    document.title = ''
  })
  afterEach(() => {
    app?.unmount()
    delete window.__PAOTUI__
  })

  it("brands the page with the tenant's name and colours in the server's locale", async () => {
    app = await start(boot('active'))
    expect(document.querySelector('.nav h1')?.textContent).toBe('北大跑腿')
    expect(document.querySelector('.notice')?.textContent).toBe('期末周延长服务时间')
    expect(document.querySelector('select')?.value).toBe('en')
    expect(document.documentElement.style.getPropertyValue('--pt-primary')).toBe('#8b0012')
    expect(document.documentElement.lang).toBe('en')
    expect(document.querySelector('[data-testid=paused-page]')).toBeNull()
  })

  it('shows the paused page instead of the app for a suspended tenant', async () => {
    app = await start(boot('suspended', 'platform'))
    const page = document.querySelector('[data-testid=paused-page]')
    expect(page?.querySelector('h1')?.textContent).toBe('北大跑腿 has paused its service')
    expect(page?.textContent).toContain('paused by the platform')
    expect(document.querySelector('.nav')).toBeNull()
  })

  it("keeps the user's own choice of language over the tenant's", async () => {
    localStorage.setItem('paotui.locale', 'zh-CN')
    app = await start(boot('suspended'))
    expect(document.querySelector('[data-testid=paused-page] h1')?.textContent).toBe('北大跑腿 暂停服务中')
  })
})
