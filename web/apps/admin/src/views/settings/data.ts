// Pricing form logic: the editor works in yuan for people, the API in 分; the preview mirrors
// internal/pricing's formula so the admin sees the effect of a change before saving it.
import type { Schema } from '@paotui/api'

export type Pricing = Schema<'Pricing'>

export interface PricingForm {
  baseFee: number
  includedMeters: number
  perKmFee: number
  minFee: number
  perMinuteFee: number
  sizeFees: { key: string; fee: number }[]
}

/** 分 -> yuan for the form (two decimals). */
export function toYuan(fen: number): number {
  return Math.round(fen) / 100
}

/** yuan -> 分; rounds to whole 分 so 1.005 typed by hand cannot become a fraction. */
export function toFen(yuan: number): number {
  return Math.round(yuan * 100)
}

export function pricingToForm(p: Pricing): PricingForm {
  return {
    baseFee: toYuan(p.baseFee),
    includedMeters: p.includedMeters,
    perKmFee: toYuan(p.perKmFee),
    minFee: toYuan(p.minFee),
    perMinuteFee: toYuan(p.perMinuteFee ?? 0),
    sizeFees: Object.entries(p.sizeFees ?? {}).map(([key, fee]) => ({ key, fee: toYuan(fee) })),
  }
}

export function formToPricing(f: PricingForm): Pricing {
  const out: Pricing = {
    baseFee: toFen(f.baseFee),
    includedMeters: Math.round(f.includedMeters),
    perKmFee: toFen(f.perKmFee),
    minFee: toFen(f.minFee),
  }
  if (f.perMinuteFee) out.perMinuteFee = toFen(f.perMinuteFee)
  if (f.sizeFees.length) out.sizeFees = Object.fromEntries(f.sizeFees.map((s) => [s.key.trim(), toFen(s.fee)]))
  return out
}

/** Message keys (in admin.validation) per invalid field; empty when the form can be sent. */
export function validatePricing(f: PricingForm): Record<string, string> {
  const errs: Record<string, string> = {}
  const money = (name: keyof PricingForm, v: number) => {
    if (!Number.isFinite(v) || v < 0) errs[name] = 'nonNegative'
    else if (v > 10000) errs[name] = 'tooLarge'
  }
  money('baseFee', f.baseFee)
  money('perKmFee', f.perKmFee)
  money('minFee', f.minFee)
  money('perMinuteFee', f.perMinuteFee)
  if (!Number.isInteger(f.includedMeters) || f.includedMeters < 0) errs.includedMeters = 'wholeMeters'
  const seen = new Set<string>()
  for (const s of f.sizeFees) {
    const k = s.key.trim()
    if (!/^[a-z][a-z0-9_]{0,31}$/.test(k) || seen.has(k)) errs.sizeFees = 'sizeKey'
    else if (!Number.isFinite(s.fee) || s.fee < 0) errs.sizeFees = 'nonNegative'
    seen.add(k)
  }
  return errs
}

export interface PreviewLine {
  code: string
  amount: number
}

/**
 * The service price of an errand under p for a billable distance (metres after detour),
 * a size class and minutes, as internal/pricing computes it (surcharges, tip and coupons
 * aside). Lines appear only when non-zero, except base.
 */
export function previewPrice(p: Pricing, billableMeters: number, size = '', minutes = 0): { lines: PreviewLine[]; total: number } {
  const lines: PreviewLine[] = [{ code: 'base', amount: p.baseFee }]
  const extra = Math.round(billableMeters) - p.includedMeters
  if (extra > 0) {
    const steps = Math.ceil(extra / 100)
    const fee = Math.floor((steps * p.perKmFee + 5) / 10)
    if (fee) lines.push({ code: 'distance', amount: fee })
  }
  const size_ = size ? (p.sizeFees?.[size] ?? 0) : 0
  if (size_) lines.push({ code: 'size', amount: size_ })
  const time = minutes * (p.perMinuteFee ?? 0)
  if (time) lines.push({ code: 'time', amount: time })
  let total = lines.reduce((s, l) => s + l.amount, 0)
  if (total < p.minFee) {
    lines.push({ code: 'minimum', amount: p.minFee - total })
    total = p.minFee
  }
  return { lines, total }
}

/** Commission: the courier's share in basis points <-> percent in the form. */
export function bpToPercent(bp: number): number {
  return bp / 100
}
export function percentToBp(pct: number): number {
  return Math.round(pct * 100)
}
