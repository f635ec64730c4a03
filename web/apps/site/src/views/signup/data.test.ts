import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  availabilityKey,
  debounce,
  emptyForm,
  fieldOfCode,
  fromAvailability,
  nextStep,
  normalizePhone,
  offeredPlans,
  pollDelay,
  slugShapeOK,
  stepsDone,
  toSignupBody,
  validateSignup,
  type SignupForm,
} from './data'

const valid: SignupForm = {
  teamName: ' 北苑跑腿社 ',
  subdomain: 'BeiYuan',
  school: '北苑大学',
  phone: '+86 138-0000-1234',
  code: '123456',
  planId: 'campus',
  interval: 'month',
}

describe('validateSignup', () => {
  it('accepts a complete form', () => {
    expect(validateSignup(valid)).toEqual({})
  })

  it('flags every missing field of an empty form', () => {
    expect(validateSignup(emptyForm())).toEqual({
      teamName: 'site.errors.required',
      subdomain: 'site.errors.required',
      school: 'site.errors.required',
      phone: 'site.errors.required',
      code: 'site.errors.required',
      planId: 'site.errors.plan',
    })
  })

  const cases: { name: string; patch: Partial<SignupForm>; field: keyof SignupForm; key: string }[] = [
    { name: 'slug too short', patch: { subdomain: 'ab' }, field: 'subdomain', key: 'site.availability.invalid' },
    { name: 'slug with a double hyphen', patch: { subdomain: 'bei--yuan' }, field: 'subdomain', key: 'site.availability.invalid' },
    { name: 'slug ending in a hyphen', patch: { subdomain: 'beiyuan-' }, field: 'subdomain', key: 'site.availability.invalid' },
    { name: 'slug with a dot', patch: { subdomain: 'bei.yuan' }, field: 'subdomain', key: 'site.availability.invalid' },
    { name: 'landline phone', patch: { phone: '010-12345678' }, field: 'phone', key: 'site.errors.phone' },
    { name: 'phone one digit short', patch: { phone: '1380000123' }, field: 'phone', key: 'site.errors.phone' },
    { name: 'letters in the code', patch: { code: '12ab56' }, field: 'code', key: 'site.errors.code' },
    { name: 'blank team name', patch: { teamName: '   ' }, field: 'teamName', key: 'site.errors.required' },
    { name: 'team name over 100 characters', patch: { teamName: '跑'.repeat(101) }, field: 'teamName', key: 'site.errors.tooLong' },
  ]
  for (const tc of cases) {
    it(tc.name, () => {
      const errors = validateSignup({ ...valid, ...tc.patch })
      expect(errors).toEqual({ [tc.field]: tc.key })
    })
  }
})

describe('normalizePhone and slugs', () => {
  it.each([
    ['13800001234', '13800001234'],
    ['138 0000 1234', '13800001234'],
    ['+8613800001234', '13800001234'],
    ['8613800001234', '13800001234'],
    ['12800001234', null],
    ['', null],
  ])('%s -> %s', (input, want) => {
    expect(normalizePhone(input)).toBe(want)
  })

  it('checks the server slug shape', () => {
    expect(slugShapeOK('abc')).toBe(true)
    expect(slugShapeOK('a'.repeat(30))).toBe(true)
    expect(slugShapeOK('a'.repeat(31))).toBe(false)
    expect(slugShapeOK('-abc')).toBe(false)
    expect(slugShapeOK('ABC')).toBe(false)
  })

  it('builds the request body the server expects', () => {
    expect(toSignupBody(valid)).toEqual({
      teamName: '北苑跑腿社',
      subdomain: 'beiyuan',
      school: '北苑大学',
      phone: '13800001234',
      code: '123456',
      planId: 'campus',
      interval: 'month',
    })
  })
})

describe('availability', () => {
  it('maps answers to reason texts', () => {
    expect(availabilityKey(fromAvailability({ slug: 'x', available: true }))).toBe('site.availability.available')
    expect(availabilityKey(fromAvailability({ slug: 'www', available: false, reason: 'reserved' }))).toBe('site.availability.reserved')
    expect(availabilityKey(fromAvailability({ slug: 'demo', available: false, reason: 'taken' }))).toBe('site.availability.taken')
    expect(availabilityKey({ state: 'idle' })).toBeNull()
  })

  it('places refusals on their field', () => {
    expect(fieldOfCode('subdomain_taken')).toBe('subdomain')
    expect(fieldOfCode('sms_code_expired')).toBe('code')
    expect(fieldOfCode('plan_not_purchasable')).toBe('planId')
    expect(fieldOfCode('signup_rate_limited')).toBeNull()
  })
})

describe('debounce', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('runs only the last call after the pause', () => {
    const fn = vi.fn()
    const d = debounce(fn, 300)
    d('b')
    d('be')
    vi.advanceTimersByTime(299)
    d('bei')
    vi.advanceTimersByTime(299)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(fn).toHaveBeenCalledWith('bei')
  })

  it('drops a pending call on cancel', () => {
    const fn = vi.fn()
    const d = debounce(fn, 100)
    d('x')
    d.cancel()
    vi.advanceTimersByTime(500)
    expect(fn).not.toHaveBeenCalled()
  })
})

describe('progress', () => {
  const base = { adminUrl: 'http://t.localhost/admin/', ready: false, checkoutUrl: undefined as string | undefined }

  it('decides what follows a status', () => {
    expect(nextStep({ ...base, state: 'provisioning' })).toEqual({ kind: 'wait' })
    expect(nextStep({ ...base, state: 'ready', ready: true })).toEqual({ kind: 'admin', url: base.adminUrl })
    // No Checkout URL yet: Stripe has not answered, keep polling.
    expect(nextStep({ ...base, state: 'awaiting_payment' })).toEqual({ kind: 'wait' })
    expect(nextStep({ ...base, state: 'awaiting_payment', checkoutUrl: 'https://pay' })).toEqual({ kind: 'pay', url: 'https://pay' })
    expect(nextStep({ ...base, state: 'deleted' })).toEqual({ kind: 'stopped' })
  })

  it('counts finished steps', () => {
    expect(stepsDone('registered', false)).toBe(0)
    expect(stepsDone('blueprint', false)).toBe(2)
    expect(stepsDone('whatever', false)).toBe(0)
    expect(stepsDone('accounts', true)).toBe(5)
  })

  it('backs off polling up to 5 s', () => {
    expect(pollDelay(1)).toBe(500)
    expect(pollDelay(3)).toBe(1000)
    expect(pollDelay(4)).toBe(2000)
    expect(pollDelay(20)).toBe(5000)
  })

  it('offers active plans in the order the server gave', () => {
    const plan = (id: string, monthlyAmount: number, status: 'active' | 'retired' = 'active') =>
      ({ id, monthlyAmount, status }) as Parameters<typeof offeredPlans>[0][number]
    expect(offeredPlans([plan('pro', 9900), plan('old', 100, 'retired'), plan('campus', 0)]).map((p) => p.id)).toEqual(['pro', 'campus'])
  })
})
