import { describe, expect, it } from 'vitest'
import {
  canWritePlans,
  conflictField,
  emptyPlanForm,
  fenToYuan,
  planDraftBody,
  planEditBody,
  planFields,
  planToForm,
  validatePlan,
  yuanToFen,
  type Plan,
  type PlanForm,
} from './data'

const plan: Plan = {
  id: 'pro',
  name: { zh: '专业版', en: 'Pro' },
  currency: 'cny',
  monthlyAmount: 19900,
  yearlyAmount: 199900,
  trialDays: 14,
  stripePrices: { monthly: 'price_1Mon', yearly: 'price_1Year' },
  limits: { maxOrdersPerMonth: 5000, maxActiveCouriers: null, maxStaffSeats: 10, customDomain: true },
  status: 'active',
  sort: 2,
  tenantCount: 3,
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
}

function filled(): PlanForm {
  const f = emptyPlanForm()
  f.id = 'campus_plus'
  f.nameZh = '校园加强版'
  f.nameEn = 'Campus Plus'
  f.monthly = '99'
  f.yearly = '999.90'
  return f
}

describe('yuan and 分', () => {
  it('converts typed yuan exactly', () => {
    expect(yuanToFen('99')).toBe(9900)
    expect(yuanToFen(' 19.99 ')).toBe(1999)
    expect(yuanToFen('1,299.5')).toBe(129950)
    expect(yuanToFen('0')).toBe(0)
    expect(yuanToFen('')).toBeNull()
    expect(yuanToFen('-1')).toBeNull()
    expect(yuanToFen('1.234')).toBeNull()
    expect(fenToYuan(19900)).toBe('199.00')
    expect(yuanToFen(fenToYuan(199999))).toBe(199999)
  })
})

describe('validatePlan', () => {
  it('passes a complete plan', () => {
    expect(validatePlan(filled())).toEqual({})
  })

  it('names each refused field the way the server does', () => {
    const f = filled()
    f.id = 'Pro Plan'
    f.nameEn = '  '
    f.nameZh = 'x'.repeat(61)
    f.currency = 'yuan'
    f.monthly = 'free'
    f.yearly = '1000000'
    f.trialDays = 400
    f.sort = 100_001
    f.prices = { monthly: 'price_A', yearly: 'price_A', metered: 'prod_B' }
    f.limits.maxStaffSeats = 0
    const e = validatePlan(f)
    expect(e).toEqual({
      id: { key: 'id' },
      'name.zh': { key: 'tooLong', params: { n: 60 } },
      'name.en': { key: 'required' },
      currency: { key: 'currency' },
      monthlyAmount: { key: 'amount' },
      yearlyAmount: { key: 'amountMax', params: { max: '999999.99' } },
      trialDays: { key: 'range', params: { min: 0, max: 365 } },
      sort: { key: 'range', params: { min: -100000, max: 100000 } },
      'stripePrices.yearly': { key: 'priceTwice' },
      'stripePrices.metered': { key: 'price' },
      'limits.maxStaffSeats': { key: 'range', params: { min: 1, max: 10_000_000 } },
    })
    for (const field of Object.keys(e)) expect(planFields).toContain(field)
  })

  it('does not check a limit switched to unlimited, nor the id of an existing plan', () => {
    const f = planToForm(plan)
    f.id = 'anything goes: it is not sent'
    f.unlimited.maxStaffSeats = true
    f.limits.maxStaffSeats = 0
    expect(validatePlan(f)).toEqual({})
  })
})

describe('plan bodies', () => {
  it('round-trips a plan through the form', () => {
    const body = planEditBody(planToForm(plan))
    expect(body).toEqual({
      name: plan.name,
      currency: 'cny',
      monthlyAmount: 19900,
      yearlyAmount: 199900,
      trialDays: 14,
      sort: 2,
      stripePrices: { monthly: 'price_1Mon', yearly: 'price_1Year' },
      limits: plan.limits,
    })
  })

  it('sends unlimited as null, detaches an emptied price and trims what was typed', () => {
    const f = planToForm(plan)
    f.unlimited.maxOrdersPerMonth = true
    f.unlimited.maxActiveCouriers = false
    f.limits.maxActiveCouriers = 50
    f.prices.yearly = '  '
    f.prices.metered = ' price_Meter '
    f.nameEn = ' Pro '
    f.currency = ' CNY '
    const body = planEditBody(f)
    expect(body.limits).toEqual({ maxOrdersPerMonth: null, maxActiveCouriers: 50, maxStaffSeats: 10, customDomain: true })
    expect(body.stripePrices).toEqual({ monthly: 'price_1Mon', metered: 'price_Meter' })
    expect(body.name.en).toBe('Pro')
    expect(body.currency).toBe('cny')
    expect(body).not.toHaveProperty('id')
  })

  it('adds the id for a new plan', () => {
    const d = planDraftBody(filled())
    expect(d.id).toBe('campus_plus')
    expect(d.monthlyAmount).toBe(9900)
    expect(d.yearlyAmount).toBe(99990)
    expect(d.limits).toEqual({ maxOrdersPerMonth: 1000, maxActiveCouriers: 20, maxStaffSeats: 5, customDomain: false })
  })
})

describe('who may change plans', () => {
  it('follows plans:write in the platform policy', () => {
    expect(canWritePlans('owner')).toBe(true)
    expect(canWritePlans('finance')).toBe(true)
    expect(canWritePlans('support')).toBe(false)
    expect(canWritePlans(undefined)).toBe(false)
  })

  it('puts a taken id by the id field', () => {
    expect(conflictField('plan_exists')).toBe('id')
    expect(conflictField('plan_price_in_use')).toBeNull()
  })
})
