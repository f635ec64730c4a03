// Checks the sign-in form before sending, with the server's own rules for a phone (+86, 0086,
// spaces and dashes accepted), so a typo costs no SMS.

/** The 11-digit mainland number in s, or null. */
export function normalizePhone(s: string): string | null {
  let p = s.replace(/[\s-]/g, '')
  if (p.startsWith('+86')) p = p.slice(3)
  else if (p.startsWith('0086')) p = p.slice(4)
  return /^1[3-9]\d{9}$/.test(p) ? p : null
}

export interface LoginErrors {
  phone?: 'badPhone'
  code?: 'badCode'
}

/** Message keys (smsLogin.*) by field; empty when the form can be sent. code null: not yet asked. */
export function validateLogin(phone: string, code: string | null): LoginErrors {
  const e: LoginErrors = {}
  if (normalizePhone(phone) === null) e.phone = 'badPhone'
  if (code !== null && !/^\d{4,8}$/.test(code.trim())) e.code = 'badCode'
  return e
}

/** Where to go after signing in: only a path inside this app, never another origin. */
export function safeRedirect(v: unknown, fallback = '/'): string {
  return typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') ? v : fallback
}
