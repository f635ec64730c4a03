// @vitest-environment happy-dom
// The wallet screen over a stubbed API, with Stripe.js replaced by a fake (js.stripe.com is not
// reachable from tests): the top-up amount is checked before anything is sent, the top-up goes
// out as a card payment with an Idempotency-Key, and the balance follows once "the webhook"
// credits it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { createPinia } from 'pinia'
import { Button, Cell, CellGroup, Empty, Field, Loading, Popup } from 'vant'
import { createPaotuiI18n } from '@paotui/i18n'
import { stEn, stZhCN } from '../../messages'
import { cardBlock, resetStripeCache } from '../../lib/stripe'
import WalletView from './WalletView.vue'

const confirmPayment = vi.fn(async () => ({ paymentIntent: { status: 'succeeded' } }))
vi.mock('@stripe/stripe-js', () => ({
  loadStripe: async () => ({
    elements: () => ({ create: () => ({ mount: () => {}, destroy: () => {} }) }),
    confirmPayment,
  }),
}))

const flush = () => new Promise((r) => setTimeout(r, 0))
async function until(ok: () => boolean) {
  for (let i = 0; i < 50 && !ok(); i++) await flush()
  await nextTick()
}
const $ = (testid: string) => document.querySelector<HTMLElement>(`[data-testid=${testid}]`)
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

interface Sent {
  method: string
  path: string
  key: string | null
  body: unknown
}

let app: App | undefined
afterEach(() => {
  app?.unmount()
  app = undefined
  vi.useRealTimers()
  vi.unstubAllGlobals()
  resetStripeCache()
  cardBlock.value = null
  confirmPayment.mockClear()
})

async function mount(balances: number[], topup: (body: unknown) => Response) {
  const sent: Sent[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url)
      const body = req.method === 'POST' ? await req.json() : undefined
      sent.push({ method: req.method, path: url.pathname, key: req.headers.get('Idempotency-Key'), body })
      if (url.pathname === '/api/v1/me') return json(200, { id: 'u1', phone: '139****0001', name: 'S', roles: [], permissions: [] })
      if (url.pathname === '/api/v1/me/wallet') {
        const balance = balances.length > 1 ? balances.shift()! : balances[0]!
        return json(200, { balance, items: [] })
      }
      return topup(body)
    }),
  )
  document.body.innerHTML = '<div id="app"></div>'
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', { st: stEn } as never)
  i18n.global.mergeLocaleMessage('zh-CN', { st: stZhCN } as never)
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/me', component: WalletView }, { path: '/', component: { render: () => null } }] })
  await router.push('/me')
  app = createApp({ render: () => h(WalletView) })
  app.use(i18n).use(router).use(createPinia()).use(Button).use(Cell).use(CellGroup).use(Empty).use(Field).use(Loading).use(Popup)
  app.mount('#app')
  await until(() => !!$('wallet-balance'))
  return sent
}

function type(value: string) {
  const el = $('topup-amount')!.querySelector('input')!
  el.value = value
  el.dispatchEvent(new Event('input'))
}
const submit = () => $('wallet-topup')!.dispatchEvent(new Event('submit'))
const topups = (sent: Sent[]) => sent.filter((s) => s.path === '/api/v1/me/wallet/topups')
const started = () => json(200, { payment: { id: 'p1' }, clientSecret: 'pi_1_secret_x', publishableKey: 'pk_test_1' })

describe('wallet top-up', () => {
  it('checks the amount before sending anything', async () => {
    const sent = await mount([1000], started)
    type('0.5')
    submit()
    await nextTick()
    expect($('topup-amount')!.textContent).toContain(stEn.wallet.topupErrors.min)
    type('6000')
    submit()
    await nextTick()
    expect($('topup-amount')!.textContent).toContain(stEn.wallet.topupErrors.max)
    expect(topups(sent)).toEqual([])
  })

  it('tops up by card and shows the balance once it is credited', async () => {
    const sent = await mount([1000, 1000, 1000, 6000], started)
    $('topup-preset-5000')!.click()
    await nextTick()
    expect($('topup-amount')!.querySelector('input')!.value).toBe('50')
    submit()
    await until(() => !!$('card-pay'))
    const [first] = topups(sent)
    expect(first?.body).toEqual({ amount: 5000, method: 'card' })
    expect(first?.key).toMatch(/^[0-9a-f-]{36}$/)

    vi.useFakeTimers()
    $('card-pay')!.click()
    for (let i = 0; i < 10 && $('topup-status')?.dataset.state !== 'credited'; i++) await vi.advanceTimersByTimeAsync(2000)
    expect(confirmPayment).toHaveBeenCalledTimes(1)
    expect($('topup-status')!.dataset.state).toBe('credited')
    expect($('wallet-balance')!.textContent).toContain('60.00')
  })

  it('keeps the key for the same amount and takes a new one for another', async () => {
    const sent = await mount([1000], started)
    type('20')
    submit()
    await until(() => !!$('card-pay'))
    // The student closes the sheet and tries again: the same top-up, the same key.
    document.querySelector<HTMLElement>('.van-popup__close-icon')!.click()
    await nextTick()
    submit()
    await until(() => topups(sent).length === 2)
    type('30')
    submit()
    await until(() => topups(sent).length === 3)
    const keys = topups(sent).map((s) => s.key)
    expect(keys[0]).toBe(keys[1])
    expect(keys[2]).not.toBe(keys[0])
  })

  it('disables card top-up with the reason once the server says it has no Stripe', async () => {
    const sent = await mount([1000], () => json(409, { status: 409, code: 'online_payment_unavailable', title: 'Conflict' }))
    type('20')
    submit()
    await until(() => !!$('topup-blocked'))
    expect($('topup-blocked')!.textContent).toBe(stEn.pay.blocked.unavailable)
    expect($('topup-submit')!.hasAttribute('disabled')).toBe(true)
    expect(topups(sent)).toHaveLength(1)
  })
})
