// Users screen: the search form as list-users query parameters and the staff top-up form (the
// admin types yuan, the API takes 分).

export const userStatuses = ['active', 'disabled'] as const
export type UserStatus = (typeof userStatuses)[number] | ''

export interface UserFilter {
  phone: string
  status: UserStatus
}

export function emptyUserFilter(): UserFilter {
  return { phone: '', status: '' }
}

export interface UserQuery {
  phone?: string
  status?: UserStatus
  limit: number
  offset: number
}

/** The phone is matched exactly (by blind index), so it goes as the digits of a whole number. */
export function usersQuery(f: UserFilter, page: number, size: number): UserQuery {
  const q: UserQuery = { limit: size, offset: (page - 1) * size }
  const phone = f.phone.replace(/[\s-]/g, '')
  if (phone) q.phone = phone
  if (f.status) q.status = f.status
  return q
}

/**
 * Message key (admin.validation.*) for the search box: a partial number finds nobody, since
 * the server can only match whole numbers.
 */
export function validateUserFilter(f: UserFilter): Record<string, string> {
  const phone = f.phone.replace(/[\s-]/g, '')
  if (phone && !/^(\+?86)?1\d{10}$/.test(phone)) return { phone: 'phone' }
  return {}
}

/** The most staff-topup-wallet credits at once, in 分 (¥5,000). */
export const maxTopup = 500000

/** yuan -> 分, rounded to whole 分. */
export function yuanToFen(yuan: number): number {
  return Math.round(yuan * 100)
}

export function validateTopup(amountYuan: number | null | undefined, reason: string): Record<string, string> {
  const errs: Record<string, string> = {}
  const fen = typeof amountYuan === 'number' && Number.isFinite(amountYuan) ? yuanToFen(amountYuan) : 0
  // More than two decimals would be silently rounded; refuse rather than credit another amount.
  if (fen < 1 || fen > maxTopup || Math.abs(fen - (amountYuan as number) * 100) > 1e-6) errs.amount = 'topupAmount'
  const r = reason.trim()
  if (!r) errs.reason = 'required'
  else if ([...r].length > 200) errs.reason = 'tooLong'
  return errs
}
