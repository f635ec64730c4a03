import type { Schema } from '@paotui/api'

type Message = Schema<'OrderChatMessage'>

/**
 * Adds messages to the list once each (the live stream and the list answer, or our own send,
 * can carry the same message), in id order, which is the order they were written.
 */
export function mergeMessages(have: readonly Message[], more: readonly Message[]): Message[] {
  const byId = new Map<number, Message>()
  for (const m of have) byId.set(m.id, m)
  for (const m of more) if (typeof m?.id === 'number') byId.set(m.id, m)
  return [...byId.values()].sort((a, b) => a.id - b.id)
}
