import { describe, expect, it } from 'vitest'
import { formToPricing, percentToBp, previewPrice, pricingToForm, validatePricing } from './data'

const rule = { baseFee: 400, includedMeters: 1000, perKmFee: 150, minFee: 0, sizeFees: { medium: 150 } }

describe('previewPrice', () => {
  it('matches the worked example of internal/pricing (night surcharge aside)', () => {
    // 1,604 billable metres: 7 started 100 m steps at ¥1.50/km = 105 分.
    const q = previewPrice(rule, 1604, 'medium')
    expect(q.lines).toEqual([
      { code: 'base', amount: 400 },
      { code: 'distance', amount: 105 },
      { code: 'size', amount: 150 },
    ])
    expect(q.total).toBe(655)
  })
  it('rounds the distance fee once on the whole amount', () => {
    const p = { ...rule, perKmFee: 125 }
    expect(previewPrice(p, 1100).lines[1]).toEqual({ code: 'distance', amount: 13 })
    expect(previewPrice(p, 1200).lines[1]).toEqual({ code: 'distance', amount: 25 })
    expect(previewPrice(p, 1300).lines[1]).toEqual({ code: 'distance', amount: 38 })
  })
  it('tops up to the minimum fee', () => {
    const q = previewPrice({ ...rule, minFee: 800 }, 500)
    expect(q.lines.at(-1)).toEqual({ code: 'minimum', amount: 400 })
    expect(q.total).toBe(800)
  })
})

describe('pricing form', () => {
  it('round-trips yuan and 分 without fractions', () => {
    const f = pricingToForm(rule)
    expect(f.baseFee).toBe(4)
    f.baseFee = 5.005
    expect(formToPricing(f).baseFee).toBe(501)
    expect(formToPricing(f).sizeFees).toEqual({ medium: 150 })
  })
  it('flags negative fees, fractional metres and duplicate size keys', () => {
    const f = pricingToForm(rule)
    expect(validatePricing(f)).toEqual({})
    f.baseFee = -1
    f.includedMeters = 10.5
    f.sizeFees.push({ key: 'medium', fee: 1 })
    expect(validatePricing(f)).toEqual({ baseFee: 'nonNegative', includedMeters: 'wholeMeters', sizeFees: 'sizeKey' })
  })
  it('turns a commission percent into basis points', () => {
    expect(percentToBp(82.5)).toBe(8250)
  })
})
