// Finance screen: the journal filter as list-ledger-journals query parameters, the grouping of
// the balances by whose money they are, and the paging of journals and accounts.
import type { Schema } from '@paotui/api'

export type Summary = Schema<'FinanceSummary'>
export type Journal = Schema<'JournalView'>
export type Entry = Schema<'EntryView'>
export type Account = Schema<'AccountView'>
export type AccountKind = Account['kind']
export type JournalKind = Journal['kind']

/** Every account kind, in the order the server lists them (internal/ledger). */
export const accountKinds: readonly AccountKind[] = ['wallet', 'escrow', 'earnings', 'revenue', 'clearing', 'refunds', 'subsidy']

export const journalKinds: readonly JournalKind[] = ['payment', 'topup', 'settlement', 'refund', 'withdrawal', 'adjustment', 'promotion']

/** The server's page limits: list-ledger-journals and list-ledger-accounts take at most 100. */
export const pageSize = 50
export const refMaxLength = 120

export interface JournalFilter {
  kind: JournalKind | ''
  /** An order id, a payment id or a full ref (order:<id>). */
  ref: string
  /** [from, to] as Date objects from the date-range picker, or null. */
  range: [Date, Date] | null
}

export function emptyJournalFilter(): JournalFilter {
  return { kind: '', ref: '', range: null }
}

export interface JournalQuery {
  kind?: JournalKind
  ref?: string
  from?: string
  to?: string
  before?: number
  limit: number
}

/**
 * The calendar day a picked date stands for, YYYY-MM-DD. The picker gives local midnight; the
 * server reads the day in the team's time zone, so the day is sent as picked, never shifted
 * to UTC the way toISOString would.
 */
export function dayOf(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

/** Only the filters set are sent; `before` is the cursor of the page to load (0: the newest). */
export function filterToQuery(f: JournalFilter, before = 0, limit = pageSize): JournalQuery {
  const q: JournalQuery = { limit }
  if (f.kind) q.kind = f.kind
  const ref = f.ref.trim()
  if (ref) q.ref = ref
  if (f.range) {
    q.from = dayOf(f.range[0])
    q.to = dayOf(f.range[1])
  }
  if (before > 0) q.before = before
  return q
}

/** Field -> message key (admin.finance.validation.*); empty when the filter can be sent. */
export function validateFilter(f: JournalFilter): Record<string, string> {
  const errs: Record<string, string> = {}
  if ([...f.ref.trim()].length > refMaxLength) errs.ref = 'refTooLong'
  if (f.range && dayOf(f.range[0]) > dayOf(f.range[1])) errs.to = 'range'
  return errs
}

/**
 * Adds a page of journals to those shown. A journal posted between two loads can push one
 * already shown onto the next page; it is shown once.
 */
export function appendJournals(shown: readonly Journal[], page: readonly Journal[] | null | undefined): Journal[] {
  const seen = new Set(shown.map((j) => j.id))
  return [...shown, ...(page ?? []).filter((j) => !seen.has(j.id))]
}

/** Whose money a balance is: held for students and couriers, the team's own, or a mirror of the outside. */
export type BalanceGroup = 'held' | 'team' | 'outside'

export const balanceGroupOf: Record<AccountKind, BalanceGroup> = {
  wallet: 'held',
  escrow: 'held',
  earnings: 'held',
  refunds: 'held',
  revenue: 'team',
  clearing: 'outside',
  subsidy: 'outside',
}

export interface BalanceCard {
  kind: AccountKind
  accounts: number
  /** Accounts holding money now: for escrow, the orders paid and not yet settled. */
  nonZero: number
  balance: number
}

export interface BalanceSection {
  group: BalanceGroup
  total: number
  cards: BalanceCard[]
}

/**
 * The summary's balances in three sections, each with its total: what the team holds for
 * others (wallets, unsettled orders, courier earnings, refunds in flight), its own revenue,
 * and the accounts that mirror money outside the books (negative by design). Kinds the server
 * did not list show as zero, so the cards never jump around.
 */
export function balanceSections(s: Pick<Summary, 'balances'> | null | undefined): BalanceSection[] {
  const byKind = new Map((s?.balances ?? []).map((b) => [b.kind, b]))
  const groups: BalanceGroup[] = ['held', 'team', 'outside']
  return groups.map((group) => {
    const cards = accountKinds
      .filter((k) => balanceGroupOf[k] === group)
      .map((kind) => {
        const b = byKind.get(kind)
        return { kind, accounts: b?.accounts ?? 0, nonZero: b?.nonZero ?? 0, balance: b?.balance ?? 0 }
      })
    return { group, total: cards.reduce((sum, c) => sum + c.balance, 0), cards }
  })
}

/** This month's journal kinds that moved money, largest first. */
export function monthVolumes(s: Pick<Summary, 'month'> | null | undefined): Schema<'KindVolume'>[] {
  return (s?.month ?? []).filter((m) => m.journals > 0).sort((a, b) => b.amount - a.amount || a.kind.localeCompare(b.kind))
}

/** The sum of a journal's entries: zero in sound books; anything else the screen flags. */
export function entriesTotal(entries: readonly Entry[] | null | undefined): number {
  return (entries ?? []).reduce((sum, e) => sum + e.amount, 0)
}

/** The month the summary covers, YYYY-MM, as the team's calendar has it. */
export function monthLabel(s: Pick<Summary, 'monthStart' | 'zone'>): string {
  try {
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: s.zone, year: 'numeric', month: '2-digit' }).formatToParts(new Date(s.monthStart))
    const y = parts.find((p) => p.type === 'year')?.value
    const m = parts.find((p) => p.type === 'month')?.value
    if (y && m) return `${y}-${m}`
  } catch {
    // A zone this browser does not know: label the month as the browser's own calendar has it.
  }
  const d = new Date(s.monthStart)
  return dayOf(d).slice(0, 7)
}
