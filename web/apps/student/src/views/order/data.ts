// The order form, generated from the task type's field list, and the checks it passes before
// a quote is asked for. Rules mirror the server's (catalog.ValidateForm) so errors show by
// the field instead of coming back as a 422.
import type { Schema } from '@paotui/api'
import { normalizePhone } from '@paotui/mobile'

export type Field = Schema<'Field'>
export type FormValues = Record<string, string>

/** An error as an i18n key (under st.form) with its parameters. */
export interface FieldError {
  key: string
  params?: Record<string, number>
}

const textMax = { text: 100, textarea: 500 } as Record<string, number>

export function emptyValues(fields: readonly Field[] | null | undefined): FormValues {
  const v: FormValues = {}
  for (const f of fields ?? []) v[f.key] = ''
  return v
}

/** The first problem with one value, or null. */
export function checkField(f: Field, raw: string | undefined): FieldError | null {
  const s = (raw ?? '').trim()
  if (s === '') return f.required ? { key: 'required' } : null
  switch (f.type) {
    case 'text':
    case 'textarea': {
      const n = f.max ?? textMax[f.type] ?? 500
      return [...s].length > n ? { key: 'tooLong', params: { n } } : null
    }
    case 'number': {
      if (!/^-?\d+$/.test(s)) return { key: 'notNumber' }
      const n = Number(s)
      const min = f.min ?? Number.MIN_SAFE_INTEGER
      const max = f.max ?? Number.MAX_SAFE_INTEGER
      return n < min || n > max ? { key: 'outOfRange', params: { min, max } } : null
    }
    case 'select':
      return (f.options ?? []).includes(s) ? null : { key: 'choose' }
    case 'phone':
      return normalizePhone(s) ? null : { key: 'badPhone' }
    case 'time':
      return /^([01]\d|2[0-3]):[0-5]\d$/.test(s) ? null : { key: 'badTime' }
    default:
      return null
  }
}

/** Every field's first problem, by key. */
export function checkForm(fields: readonly Field[] | null | undefined, values: FormValues): Record<string, FieldError> {
  const out: Record<string, FieldError> = {}
  for (const f of fields ?? []) {
    const e = checkField(f, values[f.key])
    if (e) out[f.key] = e
  }
  return out
}

/** The form as the API takes it: empty values left out, numbers as numbers. */
export function formPayload(fields: readonly Field[] | null | undefined, values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of fields ?? []) {
    const s = (values[f.key] ?? '').trim()
    if (s === '') continue
    out[f.key] = f.type === 'number' ? Number(s) : s
  }
  return out
}

/** The size classes a task type prices, cheapest first; empty when it has none. */
export function sizeOptions(pricing: Schema<'Pricing'>): string[] {
  const fees = pricing.sizeFees ?? {}
  return Object.keys(fees).sort((a, b) => (fees[a] ?? 0) - (fees[b] ?? 0) || a.localeCompare(b))
}

/** Whether the task type charges by the minute, so the form asks for the duration. */
export function asksMinutes(pricing: Schema<'Pricing'>): boolean {
  return (pricing.perMinuteFee ?? 0) > 0
}

/** Yuan typed by the student -> 分; null when it is not a amount with at most 2 decimals. */
export function yuanToFen(s: string): number | null {
  const t = s.trim()
  if (t === '') return 0
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return null
  return Math.round(Number(t) * 100)
}

/** The local clock time "HH:MM" today (or tomorrow when already past and allowed) as ISO. */
export function todayAt(hhmm: string, now: Date): Date | null {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm)
  if (!m) return null
  const d = new Date(now)
  d.setHours(Number(m[1]), Number(m[2]), 0, 0)
  return d
}

/**
 * The delivery window as the API takes it. Both ends empty is "as soon as possible" (no
 * window); otherwise both are times today, the end after the start and not in the past.
 */
export function deliveryWindow(
  start: string,
  end: string,
  now: Date,
): { ok: true; windowStart?: string; windowEnd?: string } | { ok: false } {
  if (start === '' && end === '') return { ok: true }
  const s = todayAt(start, now)
  const e = todayAt(end, now)
  if (!s || !e || e <= s || e <= now) return { ok: false }
  return { ok: true, windowStart: s.toISOString(), windowEnd: e.toISOString() }
}

/** What a quote binds: when any of it changes the quote is stale and must be asked again. */
export function quoteKey(input: unknown): string {
  return JSON.stringify(input)
}
