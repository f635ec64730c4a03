// The dashboard's figures come from get-admin-dashboard: today's orders, completions and GMV
// in the team's time zone, open orders, couriers, and a trend by day.
import type { Schema } from '@paotui/api'

type Dashboard = Pick<Schema<'Dashboard'>, 'today' | 'openOrders' | 'trend'>

export interface Figures {
  orders: number
  completed: number
  gmv: number
  active: number
}

/** Today's figures; active is what is open now (waiting for a courier, accepted or picked up). */
export function figuresOf(d: Dashboard): Figures {
  return { orders: d.today.orders, completed: d.today.completed, gmv: d.today.gmv, active: d.openOrders }
}

/** The chart's points: orders per day, oldest first, labelled MM-DD. */
export function ordersPerDay(d: Pick<Dashboard, 'trend'>): { x: string; y: number }[] {
  return (d.trend ?? []).map((day) => ({ x: day.date.slice(5), y: day.orders }))
}

export interface FeedItem {
  id: string
  event: string
  at: string
  summary: string
}

/** The stream's own control events: "ready" marks the position, "reset" asks for a reload. */
export const controlEvents = new Set(['ready', 'reset'])

/**
 * One line of the live feed from an "order" event of stream-admin-feed (orders.AdminOrderEvent:
 * number, event, from, to, at); null for anything else.
 */
export function feedItem(ev: { id: string; type: string; data: string }): FeedItem | null {
  if (ev.type !== 'order') return null
  try {
    const d = JSON.parse(ev.data) as { number?: string; event?: string; from?: string; to?: string; at?: string }
    if (!d.number || !d.to) return null
    const at = d.at ? new Date(d.at) : new Date()
    return { id: ev.id, event: d.event ?? '', at: at.toLocaleTimeString(), summary: `${d.number} ${d.from ? d.from + ' → ' : ''}${d.to}` }
  } catch {
    return null
  }
}
