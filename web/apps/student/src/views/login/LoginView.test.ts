// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { createPinia } from 'pinia'
import { Button, CellGroup, Field } from 'vant'
import { createPaotuiI18n, en } from '@paotui/i18n'
import { stEn, stZhCN } from '../../messages'
import { session } from '../../api'
import LoginView from './LoginView.vue'

const flush = () => new Promise((r) => setTimeout(r, 0))
/** Waits (a few event-loop turns at most) for the request chain to settle. */
async function until(ok: () => boolean) {
  for (let i = 0; i < 50 && !ok(); i++) await flush()
  await nextTick()
}

async function mount(fetchImpl: (req: Request) => Promise<Response>) {
  vi.stubGlobal('fetch', vi.fn(fetchImpl))
  document.body.innerHTML = '<div id="app"></div>'
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', { st: stEn } as never)
  i18n.global.mergeLocaleMessage('zh-CN', { st: stZhCN } as never)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: LoginView },
      { path: '/orders', component: { render: () => h('p', { id: 'orders' }, 'orders') } },
    ],
  })
  await router.push('/login?redirect=/orders')
  const app = createApp({ render: () => h('div', [h(LoginView)]) })
  app.use(i18n).use(router).use(createPinia()).use(Field).use(Button).use(CellGroup)
  app.mount('#app')
  await router.isReady()
  return { app, router, fetch: globalThis.fetch as unknown as ReturnType<typeof vi.fn> }
}

const input = (testid: string) => document.querySelector<HTMLInputElement>(`[data-testid=${testid}] input`)!
function type(testid: string, value: string) {
  const el = input(testid)
  el.value = value
  el.dispatchEvent(new Event('input'))
}
const json = (status: number, body: unknown, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } })

describe('sign-in page', () => {
  let app: App | undefined
  afterEach(() => {
    app?.unmount()
    vi.unstubAllGlobals()
    session.signOut()
  })

  it('shows what is wrong by the fields and sends nothing', async () => {
    const m = await mount(async () => json(500, {}))
    app = m.app
    document.querySelector<HTMLButtonElement>('[data-testid=login-submit]')!.click()
    await nextTick()
    const errors = [...document.querySelectorAll('.van-field__error-message')].map((e) => e.textContent)
    expect(errors).toEqual([en.smsLogin.badPhone, en.smsLogin.badCode])
    expect(m.fetch).not.toHaveBeenCalled()
  })

  it('asks for a code for the normalized number, then signs in and goes back', async () => {
    const bodies: unknown[] = []
    const m = await mount(async (req) => {
      bodies.push(await req.json())
      if (req.url.endsWith('/auth/sms-code')) return json(202, { resendAfterSeconds: 60 })
      return json(200, {
        accessToken: 'a', refreshToken: 'r', tokenType: 'Bearer', expiresAt: '', refreshExpiresAt: '', created: false,
        user: { id: 'u', phone: '13900000001', name: 'S', hasPassword: false, roles: [], permissions: [], tenant: { slug: 'demo', name: 'D' } },
      })
    })
    app = m.app
    type('login-phone', '+86 139 0000 0001')
    document.querySelector<HTMLButtonElement>('[data-testid=login-send-code]')!.click()
    await until(() => !!document.querySelector('[data-testid=login-send-code]')?.textContent?.includes('60'))
    expect(bodies[0]).toEqual({ phone: '13900000001' })
    expect(document.querySelector('[data-testid=login-send-code]')?.textContent).toContain('Resend in 60s')
    type('login-code', '123456')
    document.querySelector<HTMLButtonElement>('[data-testid=login-submit]')!.click()
    await until(() => m.router.currentRoute.value.path === '/orders')
    expect(bodies[1]).toEqual({ phone: '13900000001', code: '123456' })
    expect(session.accessToken).toBe('a')
    expect(m.router.currentRoute.value.fullPath).toBe('/orders')
  })

  it("shows the server's refusal by the code field", async () => {
    const m = await mount(async () =>
      json(422, { status: 422, code: 'sms_code_invalid', title: 'x', errors: [{ location: 'body.code', message: 'wrong code' }] }, 'application/problem+json'),
    )
    app = m.app
    type('login-phone', '13900000001')
    type('login-code', '000000')
    document.querySelector<HTMLButtonElement>('[data-testid=login-submit]')!.click()
    await until(() => !!document.querySelector('.pt-problem'))
    const errors = [...document.querySelectorAll('.van-field__error-message')].map((e) => e.textContent)
    expect(errors).toEqual(['wrong code'])
    expect(document.querySelector('.pt-problem')?.getAttribute('data-code')).toBe('sms_code_invalid')
    expect(session.signedIn).toBe(false)
  })
})
