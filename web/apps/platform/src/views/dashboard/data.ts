// Chart options for the platform dashboard, built from get-platform-dashboard.
import type { Schema } from '@paotui/api'

type Dashboard = Schema<'PlatformDashboard'>

/** null when there is nothing to draw, so the chart shows its empty state. */
export function statusPie(d: Dashboard, color: string) {
  const data = Object.entries(d.tenantsByStatus ?? {})
    .filter(([, n]) => n > 0)
    .map(([name, value]) => ({ name, value }))
  if (!data.length) return null
  return {
    color: [color, '#86909c', '#f7ba1e', '#f53f3f', '#14c9c9'],
    tooltip: { trigger: 'item' },
    legend: { bottom: 0 },
    series: [{ type: 'pie', radius: ['40%', '70%'], data }],
  }
}

export function signupsBar(d: Dashboard, color: string) {
  const weeks = [...(d.signupsByWeek ?? [])].sort((a, b) => a.weekStart.localeCompare(b.weekStart))
  if (!weeks.length) return null
  return {
    color: [color],
    grid: { left: 40, right: 16, top: 16, bottom: 24 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: weeks.map((w) => w.week) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: weeks.map((w) => w.signups) }],
  }
}

/** MRR per currency in minor units, largest first. */
export function mrrLines(d: Dashboard): { currency: string; amount: number; tenants: number }[] {
  return [...(d.mrr ?? [])].sort((a, b) => b.amount - a.amount)
}
