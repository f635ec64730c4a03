// @vitest-environment happy-dom
// The card sheet against a fake Stripe.js (js.stripe.com is not reachable from tests): the
// sheet's own behaviour around it — start, load, mount, confirm, and each way it can go wrong.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, ref, type App } from 'vue'
import { Button, Loading, Popup } from 'vant'
import { createPaotuiI18n } from '@paotui/i18n'
import { stEn, stZhCN } from '../messages'
import { cardBlock, resetStripeCache, type ConfirmResultLike, type LoadStripe, type StripeLike } from '../lib/stripe'
import CardPayment, { type CardStart } from './CardPayment.vue'

const flush = () => new Promise((r) => setTimeout(r, 0))
async function until(ok: () => boolean) {
  for (let i = 0; i < 50 && !ok(); i++) await flush()
  await nextTick()
}
const $ = (testid: string) => document.querySelector<HTMLElement>(`[data-testid=${testid}]`)

function fakeStripe(answers: ConfirmResultLike[]) {
  const mounted: HTMLElement[] = []
  const stripe: StripeLike = {
    elements: () => ({ create: () => ({ mount: (el) => void mounted.push(el), destroy: () => {} }) }),
    confirmPayment: async () => answers.shift() ?? { paymentIntent: { status: 'succeeded' } },
  }
  return { stripe, mounted }
}

let app: App | undefined
afterEach(() => {
  app?.unmount()
  app = undefined
  resetStripeCache()
  cardBlock.value = null
  document.body.innerHTML = ''
})

function mount(start: () => Promise<CardStart>, load: LoadStripe, walletFallback = true) {
  document.body.innerHTML = '<div id="app"></div>'
  const i18n = createPaotuiI18n('en')
  i18n.global.mergeLocaleMessage('en', { st: stEn } as never)
  i18n.global.mergeLocaleMessage('zh-CN', { st: stZhCN } as never)
  const show = ref(true)
  const done: string[] = []
  app = createApp({
    render: () =>
      h(CardPayment, {
        show: show.value,
        'onUpdate:show': (v: boolean) => (show.value = v),
        onDone: (o: string) => done.push(o),
        amount: 1250,
        start,
        returnUrl: 'https://pku.paotui.example/orders/o1',
        walletFallback,
        load,
      }),
  })
  app.use(i18n).use(Popup).use(Button).use(Loading)
  app.mount('#app')
  return { show, done }
}

const started: CardStart = { data: { clientSecret: 'pi_1_secret_x', publishableKey: 'pk_test_1' } }

describe('card payment sheet', () => {
  it('mounts the card form and reports a confirmed payment', async () => {
    const { stripe, mounted } = fakeStripe([{ paymentIntent: { status: 'succeeded' } }])
    const start = vi.fn(async () => started)
    const m = mount(start, async () => stripe)
    await until(() => !!$('card-pay'))
    expect(start).toHaveBeenCalledTimes(1)
    expect(mounted).toEqual([$('card-element')])
    expect($('card-pay')!.textContent).toContain('12.50')
    $('card-pay')!.click()
    await until(() => m.done.length > 0)
    expect(m.done).toEqual(['succeeded'])
    expect(m.show.value).toBe(false)
  })

  it("shows Stripe's words for a declined card and keeps the form for another card", async () => {
    const { stripe } = fakeStripe([{ error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } }])
    const m = mount(async () => started, async () => stripe)
    await until(() => !!$('card-pay'))
    $('card-pay')!.click()
    await until(() => !!$('card-declined'))
    expect($('card-declined')!.textContent).toBe('Your card was declined.')
    expect(m.done).toEqual([])
    expect(m.show.value).toBe(true)
    $('card-pay')!.click()
    await until(() => m.done.length > 0)
    expect(m.done).toEqual(['succeeded'])
  })

  it('says when Stripe.js cannot be loaded, points to the wallet, and retries', async () => {
    const { stripe } = fakeStripe([])
    const load = vi.fn<LoadStripe>().mockRejectedValueOnce(new Error('Failed to load Stripe.js')).mockResolvedValue(stripe)
    const start = vi.fn(async () => started)
    mount(start, load)
    await until(() => !!$('card-load-failed'))
    expect($('card-load-failed')!.textContent).toContain(stEn.pay.loadFailed)
    expect($('card-load-failed')!.textContent).toContain(stEn.pay.useWallet)
    expect(cardBlock.value).toBeNull()
    $('card-load-failed')!.querySelector('button')!.click()
    await until(() => !!$('card-pay'))
    expect(load).toHaveBeenCalledTimes(2)
  })

  it('explains that cards cannot be used without a publishable key, and remembers it', async () => {
    const load = vi.fn<LoadStripe>()
    mount(async () => ({ data: { clientSecret: 'pi_1_secret_x' } }), load, false)
    await until(() => !!$('card-blocked'))
    expect($('card-blocked')!.textContent).toContain(stEn.pay.blocked.no_key)
    expect($('card-blocked')!.textContent).not.toContain(stEn.pay.useWallet)
    expect(cardBlock.value).toBe('no_key')
    expect(load).not.toHaveBeenCalled()
  })

  it("shows the server's refusal with a retry", async () => {
    const start = vi
      .fn<() => Promise<CardStart>>()
      .mockResolvedValueOnce({ error: { status: 502, code: 'payment_provider_error', title: 'Bad Gateway' } })
      .mockResolvedValue(started)
    const { stripe } = fakeStripe([])
    mount(start, async () => stripe)
    await until(() => !!document.querySelector('[data-code=payment_provider_error]'))
    document.querySelector<HTMLButtonElement>('.pt-problem__retry')!.click()
    await until(() => !!$('card-pay'))
    expect(start).toHaveBeenCalledTimes(2)
  })
})
