// Task type editor logic: the form's shape, its conversion to and from the API's task type, and
// the rules of internal/catalog (tasktype.go) restated so a mistake is explained by the field
// before the request rather than one at a time by the server.
import type { Schema } from '@paotui/api'
import { fieldErrors } from '@paotui/ui'
import { bpToPercent, percentToBp } from '../data'
import { checkDay, sortWeek, weekdays, type WeekForm, type Weekday, type WindowRow } from '../places/data'

export type TaskType = Schema<'TaskType'>
export type Field = Schema<'Field'>
export type Pricing = Schema<'Pricing'>
export type TaskTypeDraft = Schema<'TaskTypeDraft'>
export type TaskTypeEdit = Schema<'TaskTypeEdit'>
export { weekdays, type Weekday, type WeekForm, type WindowRow }

/** The input kinds a field may take (catalog.fieldTypes). */
export const fieldTypes = ['text', 'textarea', 'number', 'select', 'phone', 'time'] as const
export type FieldType = (typeof fieldTypes)[number]

// catalog's limits; see the constants in internal/catalog/tasktype.go.
export const keyPattern = /^[a-z][a-z0-9_]{1,39}$/
/** The reorder operation's path segment (PUT /admin/task-types/order): never a type key. */
export const reservedKey = 'order'
export const maxNameRunes = 40
export const maxFields = 30
export const maxOptions = 50
export const maxOptionRunes = 40
export const maxWindowsPerDay = 6
export const maxTextRunes = 2000

/** A field being edited; uid keeps its inputs attached to it while fields move. */
export interface FieldForm {
  uid: number
  key: string
  labelZh: string
  labelEn: string
  /** One of fieldTypes, or a type this page does not know (refused until changed). */
  type: string
  required: boolean
  /** Numbers only. */
  min: number | null
  /** The largest number, or for text and textarea the most characters. */
  max: number | null
  /** Select options, one per line. */
  options: string
}

export interface TaskTypeForm {
  key: string
  nameZh: string
  nameEn: string
  enabled: boolean
  fields: FieldForm[]
  /** Off: the team's service hours apply (no override is sent). */
  ownHours: boolean
  hours: WeekForm
  /** The courier's share in percent; null: the team's split applies. */
  sharePercent: number | null
  /** The version read (0 for a new type). */
  version: number
  /** Kept as read: the pricing screen edits it, but update-task-type replaces it too. */
  pricing: Pricing
}

/**
 * A new type's pricing. It must be sent, and nothing here asks for it: new types start
 * disabled so a zero price is never offered by accident, and the pricing screen sets it.
 */
export const zeroPricing: Pricing = { baseFee: 0, includedMeters: 0, perKmFee: 0, minFee: 0 }

let uids = 0
function nextUid(): number {
  uids += 1
  return uids
}

export function emptyWeek(): WeekForm {
  return Object.fromEntries(weekdays.map((d) => [d, []])) as unknown as WeekForm
}

export function emptyField(): FieldForm {
  return { uid: nextUid(), key: '', labelZh: '', labelEn: '', type: 'text', required: false, min: null, max: null, options: '' }
}

export function emptyTaskTypeForm(): TaskTypeForm {
  return { key: '', nameZh: '', nameEn: '', enabled: false, fields: [], ownHours: false, hours: emptyWeek(), sharePercent: null, version: 0, pricing: { ...zeroPricing } }
}

export function fieldToForm(f: Field): FieldForm {
  return {
    uid: nextUid(),
    key: f.key,
    labelZh: f.label.zh,
    labelEn: f.label.en,
    type: f.type,
    required: f.required,
    min: f.min ?? null,
    max: f.max ?? null,
    options: (f.options ?? []).join('\n'),
  }
}

/** The windows of an hours override; a day it leaves out has none. */
export function hoursToForm(h: TaskType['serviceHours']): WeekForm {
  const out = emptyWeek()
  for (const d of weekdays) {
    out[d] = (h?.[d] ?? []).flatMap((s) => {
      const [from, to, ...rest] = s.split('-')
      return from !== undefined && to !== undefined && !rest.length ? [{ from, to }] : []
    })
  }
  return out
}

export function taskTypeToForm(tt: TaskType): TaskTypeForm {
  return {
    key: tt.key,
    nameZh: tt.name.zh,
    nameEn: tt.name.en,
    enabled: tt.enabled,
    fields: (tt.fields ?? []).map(fieldToForm),
    // Any day key counts: {mon: []} is an override (no service at all), not "team hours".
    ownHours: Object.keys(tt.serviceHours ?? {}).length > 0,
    hours: hoursToForm(tt.serviceHours),
    sharePercent: tt.courierShareBp == null ? null : bpToPercent(tt.courierShareBp),
    version: tt.version,
    pricing: tt.pricing,
  }
}

/** The options of a select as sent: one per line, trimmed, blank lines dropped. */
export function optionList(text: string): string[] {
  return text
    .split('\n')
    .map((o) => o.trim())
    .filter((o) => o !== '')
}

function fieldBody(f: FieldForm): Field {
  const out: Field = { key: f.key.trim(), label: { zh: f.labelZh.trim(), en: f.labelEn.trim() }, type: f.type, required: f.required }
  // Only what the type uses is sent: the server refuses a minimum on a text, options on a number.
  if (f.type === 'number' && f.min !== null) out.min = f.min
  if ((f.type === 'number' || f.type === 'text' || f.type === 'textarea') && f.max !== null) out.max = f.max
  if (f.type === 'select') out.options = optionList(f.options)
  return out
}

/** The hours override in opening order per day, or undefined when the team's hours apply. */
export function hoursBody(f: TaskTypeForm): Record<string, string[]> | undefined {
  if (!f.ownHours) return undefined
  const sorted = sortWeek(f.hours)
  const out: Record<string, string[]> = {}
  // A day left out of an override has no service, as the form shows it.
  for (const d of weekdays) if (sorted[d].length) out[d] = sorted[d].map((r) => `${r.from}-${r.to}`)
  return out
}

/** The definition both create and update send. */
function definition(f: TaskTypeForm) {
  const body: Pick<TaskTypeEdit, 'name' | 'enabled' | 'fields' | 'pricing' | 'serviceHours' | 'courierShareBp'> = {
    name: { zh: f.nameZh.trim(), en: f.nameEn.trim() },
    enabled: f.enabled,
    fields: f.fields.map(fieldBody),
    pricing: f.pricing,
  }
  const hours = hoursBody(f)
  if (hours) body.serviceHours = hours
  if (f.sharePercent !== null) body.courierShareBp = percentToBp(f.sharePercent)
  return body
}

export function draftBody(f: TaskTypeForm): TaskTypeDraft {
  return { key: f.key.trim(), ...definition(f) }
}

export function editBody(f: TaskTypeForm): TaskTypeEdit {
  return { ...definition(f), version: f.version }
}

/**
 * The form with each day's windows in opening order, as they are sent: the server names a
 * refused window by its index (serviceHours.mon[1]), which is then the row the admin sees.
 */
export function sortedHours(f: TaskTypeForm): TaskTypeForm {
  return f.ownHours ? { ...f, hours: sortWeek(f.hours) } : f
}

// ---------------------------------------------------------------------------------------------
// Validation

/** A problem of one input: a key of admin.taskTypes.errors and its parameters. */
export interface FormError {
  key: string
  params?: Record<string, string | number>
}

const runes = (s: string) => [...s].length

function textError(s: string): FormError | null {
  const v = s.trim()
  if (!v) return { key: 'required' }
  if (runes(v) > maxNameRunes) return { key: 'tooLong', params: { max: maxNameRunes } }
  return null
}

function keyError(k: string): FormError | null {
  const v = k.trim()
  if (!v) return { key: 'required' }
  if (!keyPattern.test(v)) return { key: 'keyFormat' }
  return null
}

/**
 * Every problem of the form, keyed by where the server would report it ("key", "name.zh",
 * "fields[2].options", "serviceHours.mon[0]", "courierShareBp"); empty when it can be sent.
 * takenKeys are the keys of the listed types, checked for a new type only (keys never change).
 */
export function validateTaskType(f: TaskTypeForm, takenKeys: readonly string[] = []): Record<string, FormError> {
  const errs: Record<string, FormError> = {}
  const put = (at: string, e: FormError | null) => {
    if (e) errs[at] = e
  }
  if (f.version === 0) {
    const k = f.key.trim()
    put('key', keyError(k) ?? (k === reservedKey ? { key: 'keyReserved' } : takenKeys.includes(k) ? { key: 'keyTaken' } : null))
  }
  put('name.zh', textError(f.nameZh))
  put('name.en', textError(f.nameEn))
  if (f.fields.length > maxFields) put('fields', { key: 'tooManyFields', params: { max: maxFields } })

  const seen = new Set<string>()
  f.fields.forEach((field, i) => {
    const at = `fields[${i}]`
    const k = field.key.trim()
    put(`${at}.key`, keyError(k) ?? (seen.has(k) ? { key: 'fieldKeyTaken' } : null))
    seen.add(k)
    put(`${at}.label.zh`, textError(field.labelZh))
    put(`${at}.label.en`, textError(field.labelEn))
    if (!(fieldTypes as readonly string[]).includes(field.type)) put(`${at}.type`, { key: 'type' })
    if (field.type === 'number') {
      const minOk = field.min === null || Number.isSafeInteger(field.min)
      const maxOk = field.max === null || Number.isSafeInteger(field.max)
      if (!minOk) put(`${at}.min`, { key: 'wholeNumber' })
      if (!maxOk) put(`${at}.max`, { key: 'wholeNumber' })
      if (minOk && maxOk && field.min !== null && field.max !== null && field.min > field.max) put(`${at}.min`, { key: 'minAboveMax' })
    }
    if ((field.type === 'text' || field.type === 'textarea') && field.max !== null && (!Number.isInteger(field.max) || field.max < 1 || field.max > maxTextRunes)) {
      put(`${at}.max`, { key: 'textMax', params: { max: maxTextRunes } })
    }
    if (field.type === 'select') put(`${at}.options`, optionsError(field.options))
  })

  if (f.ownHours) {
    if (weekdays.every((d) => f.hours[d].length === 0)) put('serviceHours', { key: 'hoursEmpty' })
    for (const d of weekdays) {
      const rows = f.hours[d]
      if (rows.length > maxWindowsPerDay) put(`serviceHours.${d}`, { key: 'tooManyWindows', params: { max: maxWindowsPerDay } })
      for (const [i, e] of checkDay(rows)) put(`serviceHours.${d}[${i}]`, { key: e.key, params: e.other ? { other: e.other } : undefined })
    }
  }

  const s = f.sharePercent
  // Basis points are whole: a percent with more than two decimals would be rounded silently.
  if (s !== null && (!Number.isFinite(s) || s < 0 || s > 100 || Math.abs(s * 100 - Math.round(s * 100)) > 1e-6)) put('courierShareBp', { key: 'share' })
  return errs
}

function optionsError(text: string): FormError | null {
  const opts = optionList(text)
  if (!opts.length) return { key: 'optionsRequired' }
  if (opts.length > maxOptions) return { key: 'tooManyOptions', params: { max: maxOptions } }
  for (let j = 0; j < opts.length; j++) {
    const o = opts[j]!
    if (runes(o) > maxOptionRunes) return { key: 'optionTooLong', params: { option: o, max: maxOptionRunes } }
    if (opts.indexOf(o) < j) return { key: 'optionDuplicate', params: { option: o } }
  }
  return null
}

// ---------------------------------------------------------------------------------------------
// Server problems

const slotPattern = new RegExp(
  String.raw`^(key|name\.(zh|en)|fields|courierShareBp|serviceHours|fields\[\d+\]\.(key|label\.(zh|en)|type|min|max|options)|serviceHours\.(${weekdays.join('|')})(\[\d+\])?)$`,
)

/** Where in the form a located server error is shown ("fields[1].options[2]" by the options), or null. */
export function slotOf(path: string): string | null {
  const option = /^(fields\[\d+\]\.options)\[\d+\]$/.exec(path)
  if (option) return option[1]!
  return slotPattern.test(path) ? path : null
}

/**
 * The field errors of a problem placed in the form: messages per slot, and the locations so
 * placed (for ProblemAlert's fields, which then lists only the others).
 */
export function serverErrors(problem: unknown): { slots: Record<string, string>; shown: string[] } {
  const slots: Record<string, string> = {}
  const shown: string[] = []
  for (const [path, message] of Object.entries(fieldErrors(problem).fields)) {
    const slot = slotOf(path)
    if (!slot) continue
    slots[slot] = slots[slot] ? `${slots[slot]}; ${message}` : message
    shown.push(path)
  }
  return { slots, shown }
}

// ---------------------------------------------------------------------------------------------
// Order

/** items with the one at index i moved by delta places; the same items when it cannot move. */
export function moved<T>(items: readonly T[], i: number, delta: number): T[] {
  const j = i + delta
  const out = [...items]
  if (i < 0 || i >= items.length || j < 0 || j >= items.length) return out
  const [x] = out.splice(i, 1)
  out.splice(j, 0, x as T)
  return out
}

/** The reorder-task-types keys after moving key by delta places, or null when it cannot move. */
export function reorderedKeys(types: readonly Pick<TaskType, 'key'>[], key: string, delta: -1 | 1): string[] | null {
  const i = types.findIndex((x) => x.key === key)
  const j = i + delta
  if (i < 0 || j < 0 || j >= types.length) return null
  return moved(
    types.map((x) => x.key),
    i,
    delta,
  )
}

/** The courier share shown in the list: the override in percent, or null for the team's split. */
export function sharePercentOf(tt: Pick<TaskType, 'courierShareBp'>): number | null {
  return tt.courierShareBp == null ? null : bpToPercent(tt.courierShareBp)
}
