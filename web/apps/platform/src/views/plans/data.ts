// Plans screen: the plan form and its rules, mirroring internal/platform/plans (Plan.validate)
// so a mistake is explained by its field before the request; the conversions between the form
// (prices typed in yuan, a switch per limit for "unlimited") and the API's PlanDraft/PlanEdit
// (分, null for unlimited); and who may change plans.
import type { Schema } from '@paotui/api'

export type Plan = Schema<'PlatformPlan'>
export type PlanDraft = Schema<'PlanDraft'>
export type PlanEdit = Schema<'PlanEdit'>

/** The limits a plan sets with a number (customDomain is a yes/no). */
export const limitKeys = ['maxOrdersPerMonth', 'maxActiveCouriers', 'maxStaffSeats'] as const
export type LimitKey = (typeof limitKeys)[number]

/** The Stripe prices a plan can carry. */
export const priceKeys = ['monthly', 'yearly', 'metered'] as const
export type PriceKey = (typeof priceKeys)[number]

// The server's bounds (plans.maxAmount and friends).
export const maxAmount = 99_999_999
export const maxTrialDays = 365
export const maxLimit = 10_000_000
export const maxSort = 100_000
export const maxNameLength = 60
const idPattern = /^[a-z][a-z0-9_-]{1,39}$/
const pricePattern = /^price_[A-Za-z0-9_]{1,200}$/
const currencyPattern = /^[a-z]{3}$/

export interface PlanForm {
  /** Whether the plan is new (create-plan; its id can be chosen) or edited (update-plan). */
  isNew: boolean
  id: string
  nameZh: string
  nameEn: string
  currency: string
  /** Display prices as typed, in yuan. */
  monthly: string
  yearly: string
  trialDays: number
  sort: number
  prices: Record<PriceKey, string>
  /** Each limit's maximum; unlimited[k] wins over the number. */
  limits: Record<LimitKey, number>
  unlimited: Record<LimitKey, boolean>
  customDomain: boolean
}

export function emptyPlanForm(): PlanForm {
  return {
    isNew: true,
    id: '',
    nameZh: '',
    nameEn: '',
    currency: 'cny',
    monthly: '',
    yearly: '',
    trialDays: 0,
    sort: 0,
    prices: { monthly: '', yearly: '', metered: '' },
    limits: { maxOrdersPerMonth: 1000, maxActiveCouriers: 20, maxStaffSeats: 5 },
    unlimited: { maxOrdersPerMonth: false, maxActiveCouriers: false, maxStaffSeats: false },
    customDomain: false,
  }
}

export function planToForm(p: Plan): PlanForm {
  const f = emptyPlanForm()
  f.isNew = false
  f.id = p.id
  f.nameZh = p.name.zh
  f.nameEn = p.name.en
  f.currency = p.currency
  f.monthly = fenToYuan(p.monthlyAmount)
  f.yearly = fenToYuan(p.yearlyAmount)
  f.trialDays = p.trialDays
  f.sort = p.sort
  for (const k of priceKeys) f.prices[k] = p.stripePrices[k] ?? ''
  for (const k of limitKeys) {
    const v = p.limits[k]
    f.unlimited[k] = v == null
    if (v != null) f.limits[k] = v
  }
  f.customDomain = p.limits.customDomain
  return f
}

/** 分 for an amount typed in yuan ("99", "99.9", "1,299.00"); null when it is not one. */
export function yuanToFen(s: string): number | null {
  const t = s.trim().replace(/,/g, '')
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(t)) return null
  const [whole = '0', frac = ''] = t.split('.')
  // From the digits: Number('19.99') * 100 is 1998.9999999999998.
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'))
}

/** The amount as the form shows it: 9900 -> "99.00". */
export function fenToYuan(fen: number): string {
  return (fen / 100).toFixed(2)
}

/** A refused field: a key of platform.plans.errors and its parameters. */
export interface PlanFieldError {
  key: string
  params?: Record<string, number | string>
}

/**
 * The form's fields by the names the server's field errors use (body.<name>), so server
 * refusals land on the same fields as the form's own checks.
 */
export const planFields = [
  'id',
  'name.zh',
  'name.en',
  'currency',
  'monthlyAmount',
  'yearlyAmount',
  'trialDays',
  'sort',
  ...priceKeys.map((k) => `stripePrices.${k}`),
  ...limitKeys.map((k) => `limits.${k}`),
  'limits.customDomain',
]

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n)

/** Every field's first problem, by field name (planFields); empty when the plan can be sent. */
export function validatePlan(f: PlanForm): Record<string, PlanFieldError> {
  const e: Record<string, PlanFieldError> = {}
  if (f.isNew && !idPattern.test(f.id.trim())) e.id = { key: 'id' }
  for (const [field, v] of [
    ['name.zh', f.nameZh],
    ['name.en', f.nameEn],
  ] as const) {
    const n = v.trim()
    if (!n) e[field] = { key: 'required' }
    else if ([...n].length > maxNameLength) e[field] = { key: 'tooLong', params: { n: maxNameLength } }
  }
  if (!currencyPattern.test(f.currency.trim().toLowerCase())) e.currency = { key: 'currency' }
  for (const [field, v] of [
    ['monthlyAmount', f.monthly],
    ['yearlyAmount', f.yearly],
  ] as const) {
    const fen = yuanToFen(v)
    if (fen === null) e[field] = { key: 'amount' }
    else if (fen > maxAmount) e[field] = { key: 'amountMax', params: { max: fenToYuan(maxAmount) } }
  }
  if (!isInt(f.trialDays) || f.trialDays < 0 || f.trialDays > maxTrialDays) e.trialDays = { key: 'range', params: { min: 0, max: maxTrialDays } }
  if (!isInt(f.sort) || Math.abs(f.sort) > maxSort) e.sort = { key: 'range', params: { min: -maxSort, max: maxSort } }
  const seen = new Map<string, PriceKey>()
  for (const k of priceKeys) {
    const id = f.prices[k].trim()
    if (!id) continue
    const field = `stripePrices.${k}`
    if (!pricePattern.test(id)) e[field] = { key: 'price' }
    else if (seen.has(id)) e[field] = { key: 'priceTwice' }
    else seen.set(id, k)
  }
  for (const k of limitKeys) {
    if (f.unlimited[k]) continue
    const v = f.limits[k]
    if (!isInt(v) || v < 1 || v > maxLimit) e[`limits.${k}`] = { key: 'range', params: { min: 1, max: maxLimit } }
  }
  return e
}

/** The whole plan as update-plan replaces it: a price left empty is detached, an unlimited limit is null. */
export function planEditBody(f: PlanForm): PlanEdit {
  const prices: Schema<'StripePrices'> = {}
  for (const k of priceKeys) {
    const id = f.prices[k].trim()
    if (id) prices[k] = id
  }
  const limit = (k: LimitKey) => (f.unlimited[k] ? null : f.limits[k])
  return {
    name: { zh: f.nameZh.trim(), en: f.nameEn.trim() },
    currency: f.currency.trim().toLowerCase(),
    monthlyAmount: yuanToFen(f.monthly) ?? 0,
    yearlyAmount: yuanToFen(f.yearly) ?? 0,
    trialDays: f.trialDays,
    sort: f.sort,
    stripePrices: prices,
    limits: {
      maxOrdersPerMonth: limit('maxOrdersPerMonth'),
      maxActiveCouriers: limit('maxActiveCouriers'),
      maxStaffSeats: limit('maxStaffSeats'),
      customDomain: f.customDomain,
    },
  }
}

/** A new plan for create-plan: the edit body and its id. */
export function planDraftBody(f: PlanForm): PlanDraft {
  return { id: f.id.trim(), ...planEditBody(f) }
}

/**
 * The field a refusal without field errors belongs to: a taken id belongs by the id. A price
 * attached to another plan (plan_price_in_use) does not say which of the plan's prices it is,
 * so it stays with the form.
 */
export function conflictField(code: string | undefined): string | null {
  return code === 'plan_exists' ? 'id' : null
}

/**
 * Whether a platform admin of this role may create, edit and retire plans (plans:write in
 * configs/rbac/platform_policy.csv). get-platform-me gives the role only, not permissions.
 */
export function canWritePlans(role: string | undefined): boolean {
  return role === 'owner' || role === 'finance'
}
