import { isProblem } from '@paotui/api'

/** A problem's field errors arranged for a form. */
export interface FieldErrors {
  /** Form field name -> message(s), e.g. { phone: 'expected 11 digits' }. */
  fields: Record<string, string>
  /** Messages no field of the form can show; display them with the problem. */
  other: string[]
}

// Locations name where in the request the value was: body.*, query.*, path.*; forms use the
// part after that.
const roots = ['body.', 'query.', 'path.']

/**
 * Maps a validation problem's errors[] onto form fields. A location like "body.phone" maps to
 * "phone", "body.stops[1].placeId" to "stops[1].placeId" (or to "stops" when only that is a
 * field of the form). With `known`, errors for fields the form does not have land in `other`
 * instead of being lost; without it every located error counts as a field error. Several
 * errors for one field are joined.
 */
export function fieldErrors(error: unknown, known?: readonly string[]): FieldErrors {
  const out: FieldErrors = { fields: {}, other: [] }
  if (!isProblem(error) || !error.errors) return out
  const knownSet = known ? new Set(known) : null
  for (const e of error.errors) {
    const message = e.message ?? ''
    if (!message) continue
    const field = fieldOf(e.location ?? '', knownSet)
    if (field === null) {
      out.other.push(message)
      continue
    }
    const prev = out.fields[field]
    out.fields[field] = prev ? `${prev}; ${message}` : message
  }
  return out
}

function fieldOf(location: string, known: Set<string> | null): string | null {
  const root = roots.find((r) => location.startsWith(r))
  if (!root) return null
  const path = location.slice(root.length)
  if (path === '') return null
  if (!known || known.has(path)) return path
  const top = /^[^.[]+/.exec(path)?.[0]
  return top && known.has(top) ? top : null
}
