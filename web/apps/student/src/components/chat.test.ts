import { describe, expect, it } from 'vitest'
import { mergeMessages } from './chat'

const m = (id: number, body = `m${id}`) => ({ id, orderId: 'o', senderId: 's', senderKind: 'student' as const, body, createdAt: '' })

describe('chat messages', () => {
  it('keeps each message once, in the order written', () => {
    const have = [m(1), m(3)]
    const out = mergeMessages(have, [m(3), m(2), m(4)])
    expect(out.map((x) => x.id)).toEqual([1, 2, 3, 4])
    expect(have.map((x) => x.id)).toEqual([1, 3])
  })
})
