// Form rules and view-model helpers of the signup screens, kept free of Vue so they can be
// tested without a DOM. The rules mirror the server's (internal/platform/tenancy/slug.go,
// pii.NormalizePhone) so most mistakes are caught before a request; the server stays the judge.
import type { Schema } from '@paotui/api'

export type Interval = 'month' | 'year'

export interface SignupForm {
  teamName: string
  subdomain: string
  school: string
  phone: string
  code: string
  planId: string
  interval: Interval
}

/** The form's fields, in the order they are shown (problem field errors map onto these). */
export const signupFields = ['teamName', 'subdomain', 'school', 'phone', 'code', 'planId', 'interval'] as const
export type SignupField = (typeof signupFields)[number]

/** i18n keys of the client-side errors, per field. */
export type FormErrors = Partial<Record<SignupField, string>>

export function emptyForm(planId = ''): SignupForm {
  return { teamName: '', subdomain: '', school: '', phone: '', code: '', planId, interval: 'month' }
}

const slugPattern = /^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$/

/**
 * The subdomain as the server will use it: trimmed and lower case. Other characters are kept,
 * so the user sees why it is invalid instead of having the input silently rewritten.
 */
export function normalizeSlug(input: string): string {
  return input.trim().toLowerCase()
}

/** Whether the slug has the shape the server accepts (3-30 characters, no "--"). */
export function slugShapeOK(slug: string): boolean {
  return slugPattern.test(slug) && !slug.includes('--')
}

/**
 * A mainland mobile number as 11 digits, or null. Accepts the spellings people type: spaces,
 * hyphens and a +86 / 86 prefix.
 */
export function normalizePhone(input: string): string | null {
  let p = input.replace(/[\s-]/g, '')
  if (p.startsWith('+86')) p = p.slice(3)
  else if (p.length === 13 && p.startsWith('86')) p = p.slice(2)
  return /^1[3-9]\d{9}$/.test(p) ? p : null
}

/** Client-side errors of the phone alone (sending a code needs only the phone). */
export function validatePhone(phone: string): string | undefined {
  if (phone.trim() === '') return 'site.errors.required'
  return normalizePhone(phone) ? undefined : 'site.errors.phone'
}

/** Every client-side error of the form; empty when it may be sent. */
export function validateSignup(f: SignupForm): FormErrors {
  const e: FormErrors = {}
  const teamName = f.teamName.trim()
  if (teamName === '') e.teamName = 'site.errors.required'
  else if ([...teamName].length > 100) e.teamName = 'site.errors.tooLong'
  const slug = normalizeSlug(f.subdomain)
  if (slug === '') e.subdomain = 'site.errors.required'
  else if (!slugShapeOK(slug)) e.subdomain = 'site.availability.invalid'
  const school = f.school.trim()
  if (school === '') e.school = 'site.errors.required'
  else if ([...school].length > 100) e.school = 'site.errors.tooLong'
  const phone = validatePhone(f.phone)
  if (phone) e.phone = phone
  const code = f.code.trim()
  if (code === '') e.code = 'site.errors.required'
  else if (!/^\d{4,8}$/.test(code)) e.code = 'site.errors.code'
  if (f.planId === '') e.planId = 'site.errors.plan'
  if (f.interval !== 'month' && f.interval !== 'year') e.interval = 'site.errors.required'
  return e
}

/** The request body of `signup` from a valid form. */
export function toSignupBody(f: SignupForm): Schema<'SignupInputBody'> {
  return {
    teamName: f.teamName.trim(),
    subdomain: normalizeSlug(f.subdomain),
    school: f.school.trim(),
    phone: normalizePhone(f.phone) ?? f.phone.trim(),
    code: f.code.trim(),
    planId: f.planId,
    interval: f.interval,
  }
}

/** What the subdomain field shows next to the input. */
export type Availability =
  | { state: 'idle' }
  | { state: 'checking'; slug: string }
  | { state: 'available'; slug: string }
  | { state: 'unavailable'; slug: string; reason: 'invalid' | 'reserved' | 'taken' }
  | { state: 'failed'; slug: string }

/** The i18n key of an availability answer (reason texts), or null while there is nothing to say. */
export function availabilityKey(a: Availability): string | null {
  switch (a.state) {
    case 'idle':
      return null
    case 'checking':
      return 'site.availability.checking'
    case 'available':
      return 'site.availability.available'
    case 'unavailable':
      return `site.availability.${a.reason}`
    case 'failed':
      return 'site.availability.failed'
  }
}

/** Maps check-subdomain's answer onto the field's state. */
export function fromAvailability(a: Schema<'Availability'>): Availability {
  if (a.available) return { state: 'available', slug: a.slug }
  return { state: 'unavailable', slug: a.slug, reason: a.reason ?? 'invalid' }
}

/**
 * Runs the latest call only, `wait` ms after the last trigger: typing "beiyuan" sends one
 * check, not seven. cancel() drops a pending call (the field was emptied, the page left).
 */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, wait: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const call = (...args: A) => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      fn(...args)
    }, wait)
  }
  call.cancel = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  return call
}

/** The price of a plan for an interval, in 分. */
export function planPrice(p: Pick<Schema<'PlanOffer'>, 'monthlyAmount' | 'yearlyAmount'>, interval: Interval): number {
  return interval === 'year' ? p.yearlyAmount : p.monthlyAmount
}

/** Plans a team can pick: the active ones, in the server's pricing-page order. */
export function offeredPlans(plans: readonly Schema<'PlanOffer'>[]): Schema<'PlanOffer'>[] {
  return plans.filter((p) => p.status === 'active')
}

/** What the progress page does with a status: keep polling, send to the admin or to payment, or stop. */
export type Next =
  | { kind: 'wait' }
  | { kind: 'admin'; url: string }
  | { kind: 'pay'; url: string }
  | { kind: 'stopped' }

export function nextStep(s: Pick<Schema<'SignupStatus'>, 'state' | 'ready' | 'adminUrl' | 'checkoutUrl'>): Next {
  if (s.state === 'ready' && s.ready) return { kind: 'admin', url: s.adminUrl }
  // The Checkout session is created by a job after the signup; until Stripe answered there is
  // no URL yet and the page keeps polling.
  if (s.state === 'awaiting_payment') return s.checkoutUrl ? { kind: 'pay', url: s.checkoutUrl } : { kind: 'wait' }
  if (s.state === 'paused' || s.state === 'deleted') return { kind: 'stopped' }
  return { kind: 'wait' }
}

/** Provisioning steps in order, for the progress list. */
export const provisioningSteps = ['registered', 'schema', 'blueprint', 'accounts', 'done'] as const

/** How many steps are finished for a reported step (unknown steps count as just started). */
export function stepsDone(step: string, ready: boolean): number {
  if (ready) return provisioningSteps.length
  const i = (provisioningSteps as readonly string[]).indexOf(step)
  return i < 0 ? 0 : i
}

/**
 * Delay before the next status poll: quick at first (provisioning takes about a second),
 * then backing off to 5 s so a long wait for payment does not hammer the server.
 */
export function pollDelay(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt - 2), 5000)
}

/**
 * The field a refusal belongs to, so it is shown next to that field rather than above the form.
 * Codes from README "Signup and billing"; anything else stays a form-level problem.
 */
export function fieldOfCode(code: string): SignupField | null {
  if (code.startsWith('subdomain_')) return 'subdomain'
  if (code.startsWith('sms_code_')) return 'code'
  if (code === 'plan_not_purchasable' || code === 'plan_not_found') return 'planId'
  return null
}
