import { describe, expect, it } from 'vitest'
import {
  appendJournals,
  balanceSections,
  dayOf,
  emptyJournalFilter,
  entriesTotal,
  filterToQuery,
  monthLabel,
  monthVolumes,
  validateFilter,
  type Journal,
} from './data'
import { financeEn, financeZhCN } from './messages'

function journal(id: string, seq: number): Journal {
  return { id, seq, kind: 'payment', amount: 450, createdAt: '2026-11-25T04:00:00Z', entries: [] }
}

describe('filterToQuery', () => {
  it('sends only the limit for an empty filter', () => {
    expect(filterToQuery(emptyJournalFilter())).toEqual({ limit: 50 })
  })

  it('sends the kind, the trimmed ref, the picked days and the cursor', () => {
    const f = { kind: 'settlement' as const, ref: '  order:abc ', range: [new Date(2026, 10, 1), new Date(2026, 10, 30)] as [Date, Date] }
    expect(filterToQuery(f, 812, 20)).toEqual({ kind: 'settlement', ref: 'order:abc', from: '2026-11-01', to: '2026-11-30', before: 812, limit: 20 })
  })

  it('sends the days picked, not their UTC instants', () => {
    // Local midnight of 1 December is still 30 November in UTC east of Greenwich; the server
    // reads the day in the team's zone, so the calendar day must go as picked.
    expect(dayOf(new Date(2026, 11, 1, 0, 0, 0))).toBe('2026-12-01')
    expect(dayOf(new Date(2026, 0, 9, 23, 59))).toBe('2026-01-09')
  })
})

describe('validateFilter', () => {
  it('accepts an empty filter and a ref of 120 characters', () => {
    expect(validateFilter(emptyJournalFilter())).toEqual({})
    expect(validateFilter({ ...emptyJournalFilter(), ref: '单'.repeat(120) })).toEqual({})
  })

  it('refuses a longer ref and a range that ends before it starts', () => {
    const f = { kind: '' as const, ref: 'x'.repeat(121), range: [new Date(2026, 10, 2), new Date(2026, 10, 1)] as [Date, Date] }
    expect(validateFilter(f)).toEqual({ ref: 'refTooLong', to: 'range' })
  })
})

describe('appendJournals', () => {
  it('adds the next page and shows a journal pushed over the page boundary once', () => {
    const shown = [journal('c', 9), journal('b', 7)]
    const page = [journal('b', 7), journal('a', 3)]
    expect(appendJournals(shown, page).map((j) => j.id)).toEqual(['c', 'b', 'a'])
    expect(appendJournals(shown, null).map((j) => j.id)).toEqual(['c', 'b'])
  })
})

describe('balanceSections', () => {
  it('groups the balances by whose money they are, totals each group and fills missing kinds with zero', () => {
    const sections = balanceSections({
      balances: [
        { kind: 'wallet', accounts: 2, nonZero: 1, balance: 9550 },
        { kind: 'escrow', accounts: 3, nonZero: 1, balance: 450 },
        { kind: 'subsidy', accounts: 1, nonZero: 1, balance: -10000 },
      ],
    })
    expect(sections.map((s) => [s.group, s.total])).toEqual([
      ['held', 10000],
      ['team', 0],
      ['outside', -10000],
    ])
    expect(sections[0]!.cards).toEqual([
      { kind: 'wallet', accounts: 2, nonZero: 1, balance: 9550 },
      { kind: 'escrow', accounts: 3, nonZero: 1, balance: 450 },
      { kind: 'earnings', accounts: 0, nonZero: 0, balance: 0 },
      { kind: 'refunds', accounts: 0, nonZero: 0, balance: 0 },
    ])
    expect(sections[2]!.cards.map((c) => c.kind)).toEqual(['clearing', 'subsidy'])
  })

  it('shows every kind at zero before the summary arrives', () => {
    const sections = balanceSections(null)
    expect(sections.flatMap((s) => s.cards)).toHaveLength(7)
    expect(sections.every((s) => s.total === 0)).toBe(true)
  })
})

describe('monthVolumes', () => {
  it('keeps the kinds that moved money, largest first', () => {
    const month = [
      { kind: 'payment' as const, journals: 3, amount: 1350 },
      { kind: 'topup' as const, journals: 0, amount: 0 },
      { kind: 'adjustment' as const, journals: 1, amount: 10000 },
    ]
    expect(monthVolumes({ month }).map((m) => m.kind)).toEqual(['adjustment', 'payment'])
    expect(monthVolumes({ month: null })).toEqual([])
  })
})

describe('entriesTotal', () => {
  it('is zero for a balanced journal and shows what an unbalanced one is off by', () => {
    expect(entriesTotal([{ accountKind: 'wallet', owner: 'u', amount: -450 }, { accountKind: 'escrow', owner: 'o', amount: 450 }])).toBe(0)
    expect(entriesTotal([{ accountKind: 'wallet', owner: 'u', amount: -450 }, { accountKind: 'escrow', owner: 'o', amount: 400 }])).toBe(-50)
    expect(entriesTotal(null)).toBe(0)
  })
})

describe('monthLabel', () => {
  it("names the month in the team's zone, not in UTC", () => {
    // 1 November 00:00 in Shanghai is 31 October 16:00 UTC.
    expect(monthLabel({ monthStart: '2026-10-31T16:00:00Z', zone: 'Asia/Shanghai' })).toBe('2026-11')
  })
})

describe('messages', () => {
  function leaves(o: object, prefix = ''): string[] {
    return Object.entries(o).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : leaves(v as object, `${prefix}${k}.`)))
  }

  it('has the same keys in zh-CN and en, with the same placeholders', () => {
    expect(leaves(financeEn).sort()).toEqual(leaves(financeZhCN).sort())
    const get = (o: object, key: string) => key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], o) as string
    for (const key of leaves(financeZhCN)) {
      const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
      expect(names(get(financeEn, key)), key).toEqual(names(get(financeZhCN, key)))
    }
  })

  it('names every account and journal kind the API can send', () => {
    expect(Object.keys(financeZhCN.admin.finance.accountKind).sort()).toEqual(['clearing', 'earnings', 'escrow', 'refunds', 'revenue', 'subsidy', 'wallet'])
    expect(Object.keys(financeZhCN.admin.finance.journalKind).sort()).toEqual(['adjustment', 'payment', 'promotion', 'refund', 'settlement', 'topup', 'withdrawal'])
  })
})
