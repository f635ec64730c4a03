// The dashboard's figures, computed from the latest orders until the API has a figures
// operation of its own (the tenant admin has list-orders, nothing aggregated).
import type { Schema } from '@paotui/api'

type Order = Pick<Schema<'Order'>, 'status' | 'total' | 'createdAt'>

export interface Figures {
  orders: number
  completed: number
  gmv: number
  active: number
}

const activeStatuses = new Set(['awaiting_courier', 'accepted', 'picked_up', 'delivered'])

export function figuresOf(orders: readonly Order[]): Figures {
  const f: Figures = { orders: orders.length, completed: 0, gmv: 0, active: 0 }
  for (const o of orders) {
    if (o.status === 'completed') {
      f.completed++
      f.gmv += o.total
    }
    if (activeStatuses.has(o.status)) f.active++
  }
  return f
}

/** Orders per local day for the last `days` days ending today, zero-filled, oldest first. */
export function ordersPerDay(orders: readonly Order[], days: number, today: Date): { x: string; y: number }[] {
  const key = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
  const counts = new Map<string, number>()
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(today.getFullYear(), today.getMonth(), today.getDate() - i)
    counts.set(key(d), 0)
  }
  for (const o of orders) {
    const k = key(new Date(o.createdAt))
    if (counts.has(k)) counts.set(k, counts.get(k)! + 1)
  }
  return [...counts].map(([x, y]) => ({ x: x.slice(5), y }))
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
