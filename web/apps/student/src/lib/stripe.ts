// Card payments with Stripe.js. The server starts a PaymentIntent (pay-order or topup-wallet with
// method card) and answers its client secret and the publishable key; the app loads Stripe.js,
// shows Stripe's Payment Element for the card and confirms the intent. The payment succeeds for
// the app only once Stripe's webhook reaches the server, so a confirmed card leaves the order
// "processing" until its status stream says it is paid.
//
// Stripe.js comes from js.stripe.com and is loaded on the first card payment only: most
// students pay from the wallet, and the first load stays small. The loader is injected
// (LoadStripe), so the flow is tested with a fake Stripe object.
import { ref } from 'vue'

/** A Stripe.js error, as far as the app reads it. */
export interface StripeErrorLike {
  type: string
  code?: string
  message?: string
  payment_intent?: { status: string }
}

export type ConfirmResultLike =
  | { paymentIntent: { status: string }; error?: undefined }
  | { paymentIntent?: undefined; error: StripeErrorLike }

export interface PaymentElementLike {
  mount(el: HTMLElement): void
  destroy(): void
}

export interface ElementsLike {
  create(type: 'payment'): PaymentElementLike
}

/** The part of Stripe.js the app uses; the real Stripe object satisfies it. */
export interface StripeLike {
  elements(options: { clientSecret: string; locale?: 'zh' | 'en' }): ElementsLike
  confirmPayment(options: {
    elements: ElementsLike
    redirect: 'if_required'
    confirmParams?: { return_url?: string }
  }): Promise<ConfirmResultLike>
}

/** Loads Stripe.js for a publishable key; null (or a rejection) when it cannot be loaded. */
export type LoadStripe = (publishableKey: string) => Promise<StripeLike | null>

/** The real loader: @stripe/stripe-js, imported on first use so it is a chunk of its own. */
export const loadStripeJs: LoadStripe = async (key) => {
  const { loadStripe } = await import('@stripe/stripe-js')
  return loadStripe(key)
}

/** How long Stripe.js may take to load before the app says it cannot be reached. */
export const loadTimeoutMs = 15_000

// One Stripe object per key for the page's life; a failed load is not kept, so a retry
// (back online) loads again.
const loaded = new Map<string, Promise<StripeLike>>()

function loadOnce(key: string, load: LoadStripe, timeoutMs: number): Promise<StripeLike> {
  let p = loaded.get(key)
  if (!p) {
    p = new Promise<StripeLike>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Stripe.js took too long to load')), timeoutMs)
      load(key).then(
        (s) => {
          clearTimeout(timer)
          if (s) resolve(s)
          else reject(new Error('Stripe.js is not available'))
        },
        (e: unknown) => {
          clearTimeout(timer)
          reject(e instanceof Error ? e : new Error(String(e)))
        },
      )
    })
    loaded.set(key, p)
    p.catch(() => loaded.delete(key))
  }
  return p
}

/** Forgets loaded Stripe objects (tests). */
export function resetStripeCache(): void {
  loaded.clear()
}

/** What confirming the card came to. */
export type ConfirmOutcome =
  /** Stripe took the payment; the server hears of it through the webhook. */
  | { kind: 'succeeded' }
  /** Accepted but not final yet (the bank is still deciding); also ends at the webhook. */
  | { kind: 'processing' }
  /** The card was refused or its details are incomplete: Stripe's own words, to fix and retry. */
  | { kind: 'declined'; message: string }
  /** Anything else (Stripe unreachable, the intent in an unexpected state); message may be ''. */
  | { kind: 'failed'; message: string }

/** A Payment Element for one PaymentIntent. */
export interface CardForm {
  mount(el: HTMLElement): void
  confirm(returnUrl: string): Promise<ConfirmOutcome>
  destroy(): void
}

export type CardSetup = { ok: true; form: CardForm } | { ok: false; reason: 'no_key' | 'load_failed' }

/** Stripe's Payment Element speaks the app's two languages. */
export function stripeLocale(locale: string): 'zh' | 'en' {
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en'
}

/** Maps Stripe.js's answer to confirmPayment onto what the app shows. */
export function outcomeOf(r: ConfirmResultLike): ConfirmOutcome {
  if (r.error) {
    // A second confirmation of an intent that already went through (a double tap, a retry
    // after a lost answer) is refused with the intent attached: that payment is fine.
    const st = r.error.payment_intent?.status
    if (r.error.code === 'payment_intent_unexpected_state' && (st === 'succeeded' || st === 'processing')) return { kind: st }
    const message = r.error.message ?? ''
    if (r.error.type === 'card_error' || r.error.type === 'validation_error') return { kind: 'declined', message }
    return { kind: 'failed', message }
  }
  switch (r.paymentIntent.status) {
    case 'succeeded':
      return { kind: 'succeeded' }
    case 'processing':
    case 'requires_capture':
      return { kind: 'processing' }
    default:
      return { kind: 'failed', message: '' }
  }
}

/**
 * Loads Stripe.js for the server's answer and prepares the Payment Element for its client
 * secret. Without a publishable key there is nothing to confirm with ('no_key'; Stripe.js is
 * not even loaded); when Stripe.js does not load (offline, blocked, too slow) it is
 * 'load_failed', and the student can pay from the wallet or try again.
 */
export async function openCardForm(opts: {
  clientSecret: string
  publishableKey?: string | null
  locale: string
  load?: LoadStripe
  timeoutMs?: number
}): Promise<CardSetup> {
  if (!opts.publishableKey || !opts.clientSecret) return { ok: false, reason: 'no_key' }
  let stripe: StripeLike
  try {
    stripe = await loadOnce(opts.publishableKey, opts.load ?? loadStripeJs, opts.timeoutMs ?? loadTimeoutMs)
  } catch {
    return { ok: false, reason: 'load_failed' }
  }
  let elements: ElementsLike
  let element: PaymentElementLike
  try {
    elements = stripe.elements({ clientSecret: opts.clientSecret, locale: stripeLocale(opts.locale) })
    element = elements.create('payment')
  } catch {
    return { ok: false, reason: 'load_failed' }
  }
  return {
    ok: true,
    form: {
      mount: (el) => element.mount(el),
      destroy: () => element.destroy(),
      async confirm(returnUrl) {
        try {
          // if_required: a card never leaves the page (3-D Secure opens in Stripe's own
          // frame); return_url is only for methods that must redirect.
          return outcomeOf(await stripe.confirmPayment({ elements, redirect: 'if_required', confirmParams: { return_url: returnUrl } }))
        } catch (e) {
          return { kind: 'failed', message: e instanceof Error ? e.message : '' }
        }
      },
    },
  }
}

/** Why card payment cannot be offered here; a key of st.pay.blocked. */
export type CardBlock = 'no_key' | 'unavailable' | 'not_allowed'

/**
 * What the answer to starting a card payment says about offering cards at all: the server has
 * no Stripe (online_payment_unavailable), the service does not take cards
 * (payment_method_not_allowed), or it sent no publishable key to confirm with. Null: nothing
 * against cards (a refusal about this payment, say the order already paid, is not one).
 */
export function blockOf(r: { data?: { publishableKey?: string }; error?: { code: string } }): CardBlock | null {
  if (r.error) {
    if (r.error.code === 'online_payment_unavailable') return 'unavailable'
    if (r.error.code === 'payment_method_not_allowed') return 'not_allowed'
    return null
  }
  return r.data?.publishableKey ? null : 'no_key'
}

/**
 * Card payment found not to work on this server, for the rest of the visit: the pay screens
 * then show the card option disabled with the reason instead of letting the student find out
 * again. Only server facts are kept; a Stripe.js that did not load (offline) is not.
 */
export const cardBlock = ref<CardBlock | null>(null)
