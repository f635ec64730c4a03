import { describe, expect, it } from 'vitest'
import { problemResponse } from '@paotui/api'
import {
  draftBody,
  editBody,
  emptyField,
  emptyTaskTypeForm,
  moved,
  optionList,
  reorderedKeys,
  serverErrors,
  slotOf,
  sortedHours,
  taskTypeToForm,
  validateTaskType,
  type FieldForm,
  type TaskType,
  type TaskTypeForm,
} from './data'

const parcel: TaskType = {
  key: 'parcel_pickup',
  name: { zh: '代取快递', en: 'Parcel pickup' },
  enabled: true,
  sort: 0,
  fields: [
    { key: 'pickup_code', label: { zh: '取件码', en: 'Pickup code' }, type: 'text', required: true, max: 20 },
    { key: 'size', label: { zh: '大小', en: 'Size' }, type: 'select', required: true, options: ['小', '中', '大'] },
    { key: 'count', label: { zh: '件数', en: 'Count' }, type: 'number', required: false, min: 1, max: 5 },
  ],
  pricing: { baseFee: 300, includedMeters: 1000, perKmFee: 100, minFee: 300 },
  serviceHours: { mon: ['08:00-12:00', '13:00-24:00'] },
  courierShareBp: 8250,
  version: 4,
  updatedAt: '2025-01-01T00:00:00Z',
}

function field(over: Partial<FieldForm> = {}): FieldForm {
  return { ...emptyField(), key: 'note', labelZh: '备注', labelEn: 'Note', ...over }
}

function form(over: Partial<TaskTypeForm> = {}): TaskTypeForm {
  return { ...emptyTaskTypeForm(), key: 'laundry', nameZh: '代洗衣物', nameEn: 'Laundry', ...over }
}

describe('task type form', () => {
  it('round-trips a task type through the form into the update body', () => {
    const f = taskTypeToForm(parcel)
    expect(f).toMatchObject({ key: 'parcel_pickup', nameZh: '代取快递', enabled: true, ownHours: true, sharePercent: 82.5, version: 4 })
    expect(f.fields.map((x) => x.options)).toEqual(['', '小\n中\n大', ''])
    expect(f.hours.mon).toEqual([
      { from: '08:00', to: '12:00' },
      { from: '13:00', to: '24:00' },
    ])
    expect(validateTaskType(f)).toEqual({})
    expect(editBody(f)).toEqual({
      name: parcel.name,
      enabled: true,
      fields: parcel.fields,
      pricing: parcel.pricing,
      serviceHours: { mon: ['08:00-12:00', '13:00-24:00'] },
      courierShareBp: 8250,
      version: 4,
    })
  })

  it("sends a new type disabled at zero price, without hours or share when the team's apply", () => {
    const f = form({ key: ' laundry ', nameZh: ' 代洗衣物 ', fields: [field({ key: ' note ', type: 'textarea', max: 200 })] })
    expect(validateTaskType(f)).toEqual({})
    expect(draftBody(f)).toEqual({
      key: 'laundry',
      name: { zh: '代洗衣物', en: 'Laundry' },
      enabled: false,
      fields: [{ key: 'note', label: { zh: '备注', en: 'Note' }, type: 'textarea', required: false, max: 200 }],
      pricing: { baseFee: 0, includedMeters: 0, perKmFee: 0, minFee: 0 },
    })
    // The team's split, not an override of 0%.
    expect(draftBody({ ...f, sharePercent: 0 }).courierShareBp).toBe(0)
    expect(draftBody({ ...f, sharePercent: 12.34 }).courierShareBp).toBe(1234)
  })

  it('sends only what a field type takes, so a changed type leaves nothing the server refuses', () => {
    const was = field({ type: 'number', min: 1, max: 9, options: 'a\nb' })
    const body = (type: string) => draftBody(form({ fields: [{ ...was, type }] })).fields?.[0]
    expect(body('number')).toMatchObject({ min: 1, max: 9 })
    expect(body('number')).not.toHaveProperty('options')
    expect(body('text')).toEqual({ key: 'note', label: { zh: '备注', en: 'Note' }, type: 'text', required: false, max: 9 })
    expect(body('phone')).toEqual({ key: 'note', label: { zh: '备注', en: 'Note' }, type: 'phone', required: false })
    expect(body('select')).toEqual({ key: 'note', label: { zh: '备注', en: 'Note' }, type: 'select', required: false, options: ['a', 'b'] })
  })

  it('reads options one per line, trimmed, without blank lines', () => {
    expect(optionList(' 小 \n\n中\r\n  \n大')).toEqual(['小', '中', '大'])
  })

  it('keeps an hours override that has no windows at all, rather than turning it into "team hours"', () => {
    const f = taskTypeToForm({ ...parcel, serviceHours: { mon: [] } })
    expect(f.ownHours).toBe(true)
    expect(taskTypeToForm({ ...parcel, serviceHours: undefined }).ownHours).toBe(false)
    expect(validateTaskType(f)).toEqual({ serviceHours: { key: 'hoursEmpty' } })
  })

  it('sorts each day by opening time before sending, so a refused window index is the row shown', () => {
    const f = form({ ownHours: true })
    f.hours.tue = [
      { from: '14:00 ', to: '18:00' },
      { from: '08:00', to: '12:00' },
    ]
    const sorted = sortedHours(f)
    expect(sorted.hours.tue).toEqual([
      { from: '08:00', to: '12:00' },
      { from: '14:00', to: '18:00' },
    ])
    expect(draftBody(sorted).serviceHours).toEqual({ tue: ['08:00-12:00', '14:00-18:00'] })
    // Hours switched off are not sent, whatever the rows hold.
    expect(draftBody({ ...f, ownHours: false })).not.toHaveProperty('serviceHours')
  })
})

describe('validateTaskType', () => {
  it('names each missing or malformed basic', () => {
    const errs = validateTaskType({ ...emptyTaskTypeForm(), nameEn: 'x'.repeat(41), sharePercent: 100.5 })
    expect(errs).toEqual({
      key: { key: 'required' },
      'name.zh': { key: 'required' },
      'name.en': { key: 'tooLong', params: { max: 40 } },
      courierShareBp: { key: 'share' },
    })
    // Forty characters are allowed, counted as characters rather than UTF-16 units.
    expect(validateTaskType(form({ nameZh: '😀'.repeat(40) }))['name.zh']).toBeUndefined()
  })

  it('checks a new key against the format, the reserved word and the listed types', () => {
    const keyErr = (key: string, taken: string[] = []) => validateTaskType(form({ key }), taken).key?.key
    expect(keyErr('a')).toBe('keyFormat')
    expect(keyErr('Laundry')).toBe('keyFormat')
    expect(keyErr('1abc')).toBe('keyFormat')
    expect(keyErr('a'.repeat(41))).toBe('keyFormat')
    expect(keyErr('a'.repeat(40))).toBeUndefined()
    expect(keyErr('order')).toBe('keyReserved')
    expect(keyErr('parcel_pickup', ['parcel_pickup'])).toBe('keyTaken')
    // An existing type keeps its key: it is neither checked nor sent.
    expect(validateTaskType(taskTypeToForm(parcel), ['parcel_pickup'])).toEqual({})
  })

  it('finds duplicate field keys and labels that are missing', () => {
    const errs = validateTaskType(form({ fields: [field(), field({ labelEn: ' ' }), field({ key: 'x' })] }))
    expect(errs).toEqual({
      'fields[1].key': { key: 'fieldKeyTaken' },
      'fields[1].label.en': { key: 'required' },
      'fields[2].key': { key: 'keyFormat' },
    })
  })

  it('applies the rules of each field type', () => {
    const one = (over: Partial<FieldForm>) => validateTaskType(form({ fields: [field(over)] }))
    expect(one({ type: 'number', min: 10, max: 1 })).toEqual({ 'fields[0].min': { key: 'minAboveMax' } })
    expect(one({ type: 'number', min: 5, max: 5 })).toEqual({})
    expect(one({ type: 'number', min: -3, max: null })).toEqual({})
    expect(one({ type: 'number', min: 1.5, max: 1 })).toEqual({ 'fields[0].min': { key: 'wholeNumber' } })
    expect(one({ type: 'text', max: 0 })).toEqual({ 'fields[0].max': { key: 'textMax', params: { max: 2000 } } })
    expect(one({ type: 'textarea', max: 2001 })['fields[0].max']?.key).toBe('textMax')
    expect(one({ type: 'textarea', max: 2000 })).toEqual({})
    // A minimum left over from a number is not sent for a text, so it is no error either.
    expect(one({ type: 'text', min: 3 })).toEqual({})
    expect(one({ type: 'color' })).toEqual({ 'fields[0].type': { key: 'type' } })
  })

  it('wants at least one option for a choice, each short and listed once', () => {
    const opts = (options: string) => validateTaskType(form({ fields: [field({ type: 'select', options })] }))['fields[0].options']
    expect(opts(' \n ')).toEqual({ key: 'optionsRequired' })
    expect(opts('小\n大\n 小')).toEqual({ key: 'optionDuplicate', params: { option: '小' } })
    expect(opts(`小\n${'长'.repeat(41)}`)).toEqual({ key: 'optionTooLong', params: { option: '长'.repeat(41), max: 40 } })
    expect(opts(Array.from({ length: 51 }, (_, i) => `o${i}`).join('\n'))).toEqual({ key: 'tooManyOptions', params: { max: 50 } })
    expect(opts('小\n大')).toBeUndefined()
  })

  it('limits the number of fields', () => {
    const fields = Array.from({ length: 31 }, (_, i) => field({ key: `f${i}` }))
    expect(validateTaskType(form({ fields })).fields).toEqual({ key: 'tooManyFields', params: { max: 30 } })
    expect(validateTaskType(form({ fields: fields.slice(0, 30) }))).toEqual({})
  })

  it('checks own hours per window: format, 24:00 only as an end, order, overlap and windows a day', () => {
    const f = form({ ownHours: true })
    f.hours.mon = [
      { from: '08:00', to: '24:00' },
      { from: '24:00', to: '24:00' },
    ]
    f.hours.tue = [
      { from: '8:00', to: '12:00' },
      { from: '12:00', to: '11:00' },
    ]
    f.hours.wed = [
      { from: '08:00', to: '12:00' },
      { from: '11:00', to: '13:00' },
    ]
    f.hours.thu = Array.from({ length: 7 }, (_, i) => ({ from: `0${i}:00`, to: `0${i}:30` }))
    expect(validateTaskType(f)).toEqual({
      'serviceHours.mon[1]': { key: 'opensAtMidnight' },
      'serviceHours.tue[0]': { key: 'clock' },
      'serviceHours.tue[1]': { key: 'order' },
      'serviceHours.wed[0]': { key: 'overlap', params: { other: '11:00-13:00' } },
      'serviceHours.wed[1]': { key: 'overlap', params: { other: '08:00-12:00' } },
      'serviceHours.thu': { key: 'tooManyWindows', params: { max: 6 } },
    })
    // Switched off, the rows are not sent and so not checked.
    expect(validateTaskType({ ...f, ownHours: false })).toEqual({})
  })

  it('takes a share from 0 to 100 with at most two decimals', () => {
    const share = (sharePercent: number | null) => validateTaskType(form({ sharePercent })).courierShareBp
    expect(share(null)).toBeUndefined()
    expect(share(0)).toBeUndefined()
    expect(share(100)).toBeUndefined()
    expect(share(82.35)).toBeUndefined()
    expect(share(82.355)).toEqual({ key: 'share' })
    expect(share(-1)).toEqual({ key: 'share' })
  })
})

describe('server problems', () => {
  it('places located errors by the input they name', () => {
    expect(slotOf('fields[2].options[1]')).toBe('fields[2].options')
    expect(slotOf('fields[0].label.zh')).toBe('fields[0].label.zh')
    expect(slotOf('serviceHours.mon[0]')).toBe('serviceHours.mon[0]')
    expect(slotOf('name.en')).toBe('name.en')
    expect(slotOf('courierShareBp')).toBe('courierShareBp')
    expect(slotOf('pricing.baseFee')).toBeNull()
    expect(slotOf('serviceHours.holiday')).toBeNull()
    expect(slotOf('version')).toBeNull()
  })

  it('lists the placed locations so the alert shows only the rest', async () => {
    const p = await problemResponse({
      status: 422,
      code: 'task_type_invalid',
      title: 'Unprocessable Entity',
      errors: [
        { location: 'body.fields[1].options[0]', message: 'must not be empty' },
        { location: 'body.pricing.minFee', message: 'must be 0..1000000' },
      ],
    }).json()
    expect(serverErrors(p)).toEqual({ slots: { 'fields[1].options': 'must not be empty' }, shown: ['fields[1].options[0]'] })
    expect(serverErrors(null)).toEqual({ slots: {}, shown: [] })
  })
})

describe('order', () => {
  const types = [{ key: 'a' }, { key: 'b' }, { key: 'c' }]

  it('moves one key and lists every key once', () => {
    expect(reorderedKeys(types, 'b', -1)).toEqual(['b', 'a', 'c'])
    expect(reorderedKeys(types, 'b', 1)).toEqual(['a', 'c', 'b'])
    expect(reorderedKeys(types, 'c', -1)).toEqual(['a', 'c', 'b'])
  })

  it('does not move past either end or a key that is not listed', () => {
    expect(reorderedKeys(types, 'a', -1)).toBeNull()
    expect(reorderedKeys(types, 'c', 1)).toBeNull()
    expect(reorderedKeys(types, 'zz', 1)).toBeNull()
    expect(moved([1, 2, 3], 2, 1)).toEqual([1, 2, 3])
    expect(moved([1, 2, 3], 0, 2)).toEqual([2, 3, 1])
  })
})
