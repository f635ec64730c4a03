import { describe, expect, it } from 'vitest'
import { mrrLines, signupsBar, statusPie } from './data'

const base = { gmvThisMonth: 0, ordersThisMonth: 0, mrr: null, signupsByWeek: null, tenantsByStatus: {}, unreadableTenants: null }

describe('platform dashboard charts', () => {
  it('has nothing to draw for an empty platform', () => {
    expect(statusPie(base, '#000')).toBeNull()
    expect(signupsBar(base, '#000')).toBeNull()
    expect(mrrLines(base)).toEqual([])
  })
  it('drops empty statuses and orders weeks by their start', () => {
    const d = {
      ...base,
      tenantsByStatus: { active: 3, suspended: 0, provisioning: 1 },
      signupsByWeek: [
        { week: '2026-W47', weekStart: '2026-11-16', signups: 2 },
        { week: '2026-W46', weekStart: '2026-11-09', signups: 5 },
      ],
    }
    expect(statusPie(d, '#000')!.series[0]!.data).toEqual([
      { name: 'active', value: 3 },
      { name: 'provisioning', value: 1 },
    ])
    const bar = signupsBar(d, '#000')!
    expect(bar.xAxis.data).toEqual(['2026-W46', '2026-W47'])
    expect(bar.series[0]!.data).toEqual([5, 2])
  })
})
