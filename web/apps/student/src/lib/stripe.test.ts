// js.stripe.com cannot be reached from the test machine (nor should a unit test reach it):
// Stripe.js is replaced by a fake object with the same shape, injected through openCardForm's
// load parameter. What runs is the app's own flow around it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  blockOf,
  openCardForm,
  outcomeOf,
  resetStripeCache,
  stripeLocale,
  type ConfirmResultLike,
  type LoadStripe,
  type StripeLike,
} from './stripe'

function fakeStripe(answer: ConfirmResultLike | (() => Promise<ConfirmResultLike>)) {
  const calls = { elements: [] as unknown[], mounted: [] as HTMLElement[], confirms: [] as unknown[], destroyed: 0 }
  const element = {
    mount: (el: HTMLElement) => void calls.mounted.push(el),
    destroy: () => void calls.destroyed++,
  }
  const elements = { create: vi.fn(() => element) }
  const stripe: StripeLike = {
    elements(options) {
      calls.elements.push(options)
      return elements
    },
    async confirmPayment(options) {
      calls.confirms.push(options)
      expect(options.elements).toBe(elements)
      return typeof answer === 'function' ? answer() : answer
    },
  }
  return { stripe, calls }
}

const el = {} as HTMLElement

afterEach(() => resetStripeCache())

describe('openCardForm', () => {
  it('loads Stripe.js with the key, mounts the Payment Element and confirms a payment', async () => {
    const { stripe, calls } = fakeStripe({ paymentIntent: { status: 'succeeded' } })
    const load = vi.fn<LoadStripe>(async () => stripe)
    const setup = await openCardForm({ clientSecret: 'pi_1_secret_x', publishableKey: 'pk_test_1', locale: 'zh-CN', load })
    expect(setup.ok).toBe(true)
    if (!setup.ok) return
    expect(load).toHaveBeenCalledWith('pk_test_1')
    expect(calls.elements).toEqual([{ clientSecret: 'pi_1_secret_x', locale: 'zh' }])
    setup.form.mount(el)
    expect(calls.mounted).toEqual([el])
    expect(await setup.form.confirm('https://pku.paotui.example/orders/1')).toEqual({ kind: 'succeeded' })
    expect(calls.confirms).toEqual([
      expect.objectContaining({ redirect: 'if_required', confirmParams: { return_url: 'https://pku.paotui.example/orders/1' } }),
    ])
    setup.form.destroy()
    expect(calls.destroyed).toBe(1)
  })

  it("shows a declined card with Stripe's message and lets the student try again", async () => {
    const answers: ConfirmResultLike[] = [
      { error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } },
      { paymentIntent: { status: 'succeeded' } },
    ]
    const { stripe } = fakeStripe(async () => answers.shift()!)
    const setup = await openCardForm({ clientSecret: 's', publishableKey: 'pk_test_1', locale: 'en', load: async () => stripe })
    if (!setup.ok) throw new Error('not ok')
    expect(await setup.form.confirm('/')).toEqual({ kind: 'declined', message: 'Your card was declined.' })
    expect(await setup.form.confirm('/')).toEqual({ kind: 'succeeded' })
  })

  it('says Stripe.js failed to load when the script does not come (offline), and loads again on retry', async () => {
    const { stripe } = fakeStripe({ paymentIntent: { status: 'succeeded' } })
    const load = vi
      .fn<LoadStripe>()
      .mockRejectedValueOnce(new Error('Failed to load Stripe.js'))
      .mockResolvedValueOnce(null)
      .mockResolvedValue(stripe)
    const opts = { clientSecret: 's', publishableKey: 'pk_test_1', locale: 'en', load }
    expect(await openCardForm(opts)).toEqual({ ok: false, reason: 'load_failed' })
    expect(await openCardForm(opts)).toEqual({ ok: false, reason: 'load_failed' })
    expect((await openCardForm(opts)).ok).toBe(true)
    // Loaded once, kept: the next payment does not fetch Stripe.js again.
    expect((await openCardForm(opts)).ok).toBe(true)
    expect(load).toHaveBeenCalledTimes(3)
  })

  it('gives up on a Stripe.js that never answers', async () => {
    vi.useFakeTimers()
    try {
      const pending = openCardForm({ clientSecret: 's', publishableKey: 'pk_test_1', locale: 'en', load: () => new Promise(() => {}), timeoutMs: 5000 })
      await vi.advanceTimersByTimeAsync(5000)
      expect(await pending).toEqual({ ok: false, reason: 'load_failed' })
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not load Stripe.js without a publishable key', async () => {
    const load = vi.fn<LoadStripe>()
    expect(await openCardForm({ clientSecret: 's', publishableKey: undefined, locale: 'en', load })).toEqual({ ok: false, reason: 'no_key' })
    expect(await openCardForm({ clientSecret: 's', publishableKey: '', locale: 'en', load })).toEqual({ ok: false, reason: 'no_key' })
    expect(load).not.toHaveBeenCalled()
  })

  it('reports a Stripe.js that throws while confirming as a failure, not a crash', async () => {
    const { stripe } = fakeStripe(async () => {
      throw new Error('boom')
    })
    const setup = await openCardForm({ clientSecret: 's', publishableKey: 'pk_test_1', locale: 'en', load: async () => stripe })
    if (!setup.ok) throw new Error('not ok')
    expect(await setup.form.confirm('/')).toEqual({ kind: 'failed', message: 'boom' })
  })
})

describe('outcomeOf', () => {
  it.each<[string, ConfirmResultLike, ReturnType<typeof outcomeOf>]>([
    ['succeeded', { paymentIntent: { status: 'succeeded' } }, { kind: 'succeeded' }],
    ['processing', { paymentIntent: { status: 'processing' } }, { kind: 'processing' }],
    ['still needs a card', { paymentIntent: { status: 'requires_payment_method' } }, { kind: 'failed', message: '' }],
    ['incomplete card', { error: { type: 'validation_error', message: 'Your card number is incomplete.' } }, { kind: 'declined', message: 'Your card number is incomplete.' }],
    ['Stripe unreachable', { error: { type: 'api_connection_error', message: 'Network' } }, { kind: 'failed', message: 'Network' }],
    [
      'confirmed twice',
      { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', payment_intent: { status: 'succeeded' } } },
      { kind: 'succeeded' },
    ],
    [
      'unexpected state, not paid',
      { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: 'canceled', payment_intent: { status: 'canceled' } } },
      { kind: 'failed', message: 'canceled' },
    ],
  ])('%s', (_name, r, want) => {
    expect(outcomeOf(r)).toEqual(want)
  })
})

describe('blockOf', () => {
  it('blocks cards for server facts only', () => {
    expect(blockOf({ data: { publishableKey: 'pk_test_1' } })).toBeNull()
    expect(blockOf({ data: {} })).toBe('no_key')
    expect(blockOf({ error: { code: 'online_payment_unavailable' } })).toBe('unavailable')
    expect(blockOf({ error: { code: 'payment_method_not_allowed' } })).toBe('not_allowed')
    expect(blockOf({ error: { code: 'order_already_paid' } })).toBeNull()
    expect(blockOf({ error: { code: 'network_error' } })).toBeNull()
  })
})

describe('stripeLocale', () => {
  it('maps the app locale to the Payment Element language', () => {
    expect(stripeLocale('zh-CN')).toBe('zh')
    expect(stripeLocale('en')).toBe('en')
  })
})
