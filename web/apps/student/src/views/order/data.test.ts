import { describe, expect, it } from 'vitest'
import { checkField, checkForm, deliveryWindow, emptyValues, formPayload, sizeOptions, asksMinutes, yuanToFen, type Field } from './data'

const label = { zh: '', en: '' }
const fields: Field[] = [
  { key: 'item', label, type: 'text', required: true, max: 5 },
  { key: 'note', label, type: 'textarea', required: false },
  { key: 'count', label, type: 'number', required: true, min: 1, max: 9 },
  { key: 'kind', label, type: 'select', required: false, options: ['food', 'parcel'] },
  { key: 'contact', label, type: 'phone', required: false },
  { key: 'by', label, type: 'time', required: false },
]

describe('order form from a task type', () => {
  it('starts with an empty value per field', () => {
    expect(emptyValues(fields)).toEqual({ item: '', note: '', count: '', kind: '', contact: '', by: '' })
    expect(emptyValues(null)).toEqual({})
  })

  it("applies each field type's rule like the server does", () => {
    expect(checkField(fields[0]!, '  ')).toEqual({ key: 'required' })
    expect(checkField(fields[0]!, '奶茶奶茶奶茶')).toEqual({ key: 'tooLong', params: { n: 5 } })
    expect(checkField(fields[0]!, '奶茶')).toBeNull()
    expect(checkField(fields[1]!, '')).toBeNull()
    expect(checkField(fields[1]!, 'x'.repeat(501))).toEqual({ key: 'tooLong', params: { n: 500 } })
    expect(checkField(fields[2]!, '2.5')).toEqual({ key: 'notNumber' })
    expect(checkField(fields[2]!, '10')).toEqual({ key: 'outOfRange', params: { min: 1, max: 9 } })
    expect(checkField(fields[2]!, '3')).toBeNull()
    expect(checkField(fields[3]!, 'other')).toEqual({ key: 'choose' })
    expect(checkField(fields[4]!, '1380000')).toEqual({ key: 'badPhone' })
    expect(checkField(fields[4]!, '+86 13800000000')).toBeNull()
    expect(checkField(fields[5]!, '24:00')).toEqual({ key: 'badTime' })
    expect(checkField(fields[5]!, '18:30')).toBeNull()
  })

  it('reports every bad field at once and sends only filled values, numbers as numbers', () => {
    const values = { item: '', note: ' ', count: 'x', kind: 'food', contact: '', by: '' }
    expect(Object.keys(checkForm(fields, values))).toEqual(['item', 'count'])
    expect(formPayload(fields, { item: ' 奶茶 ', note: '', count: '2', kind: 'food', contact: '', by: '09:05' })).toEqual({
      item: '奶茶',
      count: 2,
      kind: 'food',
      by: '09:05',
    })
  })

  it('offers the priced sizes cheapest first and asks minutes only when time is charged', () => {
    const pricing = { baseFee: 300, includedMeters: 1000, perKmFee: 100, minFee: 300, sizeFees: { large: 500, small: 0, medium: 200 } }
    expect(sizeOptions(pricing)).toEqual(['small', 'medium', 'large'])
    expect(sizeOptions({ ...pricing, sizeFees: undefined })).toEqual([])
    expect(asksMinutes(pricing)).toBe(false)
    expect(asksMinutes({ ...pricing, perMinuteFee: 10 })).toBe(true)
  })

  it('turns a tip in yuan into 分 and refuses what is not an amount', () => {
    expect(yuanToFen('')).toBe(0)
    expect(yuanToFen('2')).toBe(200)
    expect(yuanToFen('1.05')).toBe(105)
    expect(yuanToFen('0.1')).toBe(10)
    expect(yuanToFen('1.005')).toBeNull()
    expect(yuanToFen('-1')).toBeNull()
  })

  it('sends no window for "as soon as possible" and a checked window otherwise', () => {
    const now = new Date(2026, 10, 25, 12, 0)
    expect(deliveryWindow('', '', now)).toEqual({ ok: true })
    const w = deliveryWindow('13:00', '14:30', now)
    expect(w).toEqual({ ok: true, windowStart: new Date(2026, 10, 25, 13, 0).toISOString(), windowEnd: new Date(2026, 10, 25, 14, 30).toISOString() })
    expect(deliveryWindow('14:00', '13:00', now).ok).toBe(false)
    expect(deliveryWindow('10:00', '11:00', now).ok).toBe(false)
    expect(deliveryWindow('13:00', '', now).ok).toBe(false)
  })
})
