import { describe, expect, it } from 'vitest'
import { SSEParser, openEventStream, type SSEEvent } from './sse'
import { Session, localLock, memoryStorage } from './session'
import type { Problem } from './problem'

function parseAll(chunks: string[], lastEventId?: string) {
  const p = new SSEParser(lastEventId)
  const events = chunks.flatMap((c) => p.push(c))
  return { events, parser: p }
}

describe('SSEParser', () => {
  it.each<[string, string[], SSEEvent[]]>([
    ['a plain message', ['data: hi\n\n'], [{ type: 'message', data: 'hi', id: '' }]],
    [
      'event type and id',
      ['id: 7\nevent: status\ndata: {"s":"paid"}\n\n'],
      [{ type: 'status', data: '{"s":"paid"}', id: '7' }],
    ],
    ['multi-line data joined with LF', ['data: a\ndata: b\ndata:\n\n'], [{ type: 'message', data: 'a\nb\n', id: '' }]],
    ['only one leading space dropped', ['data:  two\n\n'], [{ type: 'message', data: ' two', id: '' }]],
    ['no space after the colon', ['data:x\n\n'], [{ type: 'message', data: 'x', id: '' }]],
    ['a field without colon has an empty value', ['data\n\n'], [{ type: 'message', data: '', id: '' }]],
    ['comments ignored', [': ping\n\n: ping\ndata: x\n\n'], [{ type: 'message', data: 'x', id: '' }]],
    ['CRLF line ends', ['id: 1\r\ndata: x\r\n\r\n'], [{ type: 'message', data: 'x', id: '1' }]],
    ['CR line ends', ['data: x\r\rdata: y\r\r'], [{ type: 'message', data: 'x', id: '' }, { type: 'message', data: 'y', id: '' }]],
    ['CRLF split across chunks is one line end', ['data: x\r', '\ndata: y\r\n\r\n'], [{ type: 'message', data: 'x\ny', id: '' }]],
    ['a line split across chunks', ['da', 'ta: he', 'llo\n', '\n'], [{ type: 'message', data: 'hello', id: '' }]],
    ['unknown fields ignored', ['foo: bar\ndata: x\n\n'], [{ type: 'message', data: 'x', id: '' }]],
    ['an event without data is not dispatched', ['event: status\nid: 3\n\n'], []],
    ['the event type resets after dispatch', ['event: a\ndata: 1\n\ndata: 2\n\n'], [{ type: 'a', data: '1', id: '' }, { type: 'message', data: '2', id: '' }]],
    ['the id persists until replaced', ['id: 5\ndata: 1\n\ndata: 2\n\n'], [{ type: 'message', data: '1', id: '5' }, { type: 'message', data: '2', id: '5' }]],
    ['an empty id clears it', ['id: 5\ndata: 1\n\nid\ndata: 2\n\n'], [{ type: 'message', data: '1', id: '5' }, { type: 'message', data: '2', id: '' }]],
    ['an id with NUL is ignored', ['id: 5\ndata: 1\n\nid: a\0b\ndata: 2\n\n'], [{ type: 'message', data: '1', id: '5' }, { type: 'message', data: '2', id: '5' }]],
    ['a leading BOM is dropped', ['\ufeffdata: x\n\n'], [{ type: 'message', data: 'x', id: '' }]],
    ['an unterminated event is not dispatched', ['data: x\n'], []],
  ])('%s', (_name, chunks, want) => {
    expect(parseAll(chunks).events).toEqual(want)
  })

  it('tracks the last event id even for events without data', () => {
    const { parser } = parseAll(['id: 9\n\n'])
    expect(parser.lastEventId).toBe('9')
  })

  it('starts from the resume id', () => {
    const { events } = parseAll(['data: x\n\n'], '41')
    expect(events).toEqual([{ type: 'message', data: 'x', id: '41' }])
  })

  it.each([
    ['retry: 2500\n', 2500],
    ['retry: 25x\n', undefined],
    ['retry: \n', undefined],
  ])('retry %j', (chunk, want) => {
    expect(parseAll([chunk]).parser.retry).toBe(want)
  })
})

/** A response whose body yields chunks, then ends. */
function stream(chunks: string[]): Response {
  const enc = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch))
      c.close()
    },
  })
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } })
}

function problem(status: number, code: string): Response {
  return new Response(JSON.stringify({ title: 't', status, code }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  })
}

describe('openEventStream', () => {
  it('reconnects after the stream ends, resuming from the last id, after the server-asked delay', async () => {
    const seen: { lastEventId: string | null; auth: string | null }[] = []
    const waits: number[] = []
    const events: SSEEvent[] = []
    const replies = [
      () => stream(['retry: 1500\n\n', 'id: 1\nevent: status\ndata: a\n\n', 'id: 2\nevent: status\ndata: b\n\n']),
      () => stream(['id: 3\nevent: status\ndata: c\n\n']),
    ]
    let close = () => {}
    const s = openEventStream({
      url: 'http://t.test/api/v1/orders/x/live',
      lastEventId: '0',
      fetch: async (req) => {
        seen.push({ lastEventId: req.headers.get('Last-Event-ID'), auth: req.headers.get('Authorization') })
        const next = replies.shift()
        if (!next) {
          close()
          throw new DOMException('aborted', 'AbortError')
        }
        return next()
      },
      wait: async (ms) => void waits.push(ms),
      onEvent: (e) => events.push(e),
    })
    close = () => s.close()
    await s.done
    expect(events.map((e) => `${e.id}:${e.type}:${e.data}`)).toEqual(['1:status:a', '2:status:b', '3:status:c'])
    expect(seen.map((x) => x.lastEventId)).toEqual(['0', '2', '3'])
    expect(waits).toEqual([1500, 1500])
    expect(s.lastEventId).toBe('3')
  })

  it('backs off while connections keep failing, capped', async () => {
    const waits: number[] = []
    let calls = 0
    const s = openEventStream({
      url: 'http://t.test/live',
      retryMs: 1000,
      maxRetryMs: 5000,
      fetch: async () => {
        if (++calls > 5) s.close()
        throw new TypeError('fetch failed')
      },
      wait: async (ms) => void waits.push(ms),
      onEvent: () => {},
    })
    await s.done
    expect(waits.slice(0, 5)).toEqual([1000, 2000, 4000, 5000, 5000])
  })

  it('refreshes the token once on a refreshable 401 and reconnects with the new one', async () => {
    const storage = memoryStorage()
    const session = new Session({
      key: 's',
      storage,
      lock: localLock(),
      refresher: async () => ({ ok: true, tokens: { accessToken: 'a2', refreshToken: 'r2' } }),
    })
    session.set({ accessToken: 'a1', refreshToken: 'r1' })
    const auths: (string | null)[] = []
    const events: SSEEvent[] = []
    const s = openEventStream({
      url: 'http://t.test/live',
      session,
      fetch: async (req) => {
        auths.push(req.headers.get('Authorization'))
        if (req.headers.get('Authorization') === 'Bearer a1') return problem(401, 'token_invalid')
        s.close()
        return stream(['data: ok\n\n'])
      },
      wait: async () => {},
      onEvent: (e) => events.push(e),
    })
    await s.done
    expect(auths).toEqual(['Bearer a1', 'Bearer a2'])
  })

  it('stops on a refusal that reconnecting cannot cure and reports it', async () => {
    const problems: Problem[] = []
    let calls = 0
    const s = openEventStream({
      url: 'http://t.test/live',
      fetch: async () => {
        calls++
        return problem(403, 'permission_denied')
      },
      wait: async () => {},
      onEvent: () => {},
      onProblem: (p) => problems.push(p),
    })
    await s.done
    expect(calls).toBe(1)
    expect(problems.map((p) => p.code)).toEqual(['permission_denied'])
  })

  it('retries a 503 after its Retry-After', async () => {
    const waits: number[] = []
    let calls = 0
    const s = openEventStream({
      url: 'http://t.test/live',
      fetch: async () => {
        if (++calls === 1) {
          const r = problem(503, 'live_updates_unavailable')
          r.headers.set('Retry-After', '2')
          return r
        }
        s.close()
        return stream([])
      },
      wait: async (ms) => void waits.push(ms),
      onEvent: () => {},
    })
    await s.done
    expect(calls).toBe(2)
    expect(waits[0]).toBe(2000)
  })

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: 跑腿\n\n')
    const events: SSEEvent[] = []
    const s = openEventStream({
      url: 'http://t.test/live',
      fetch: async () => {
        s.close()
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(bytes.slice(0, 7))
            c.enqueue(bytes.slice(7))
            c.close()
          },
        })
        return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } })
      },
      wait: async () => {},
      onEvent: (e) => events.push(e),
    })
    await s.done
    expect(events.map((e) => e.data)).toEqual(['跑腿'])
  })
})
