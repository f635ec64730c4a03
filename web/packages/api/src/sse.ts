import { clientCodes, readProblem, type Fetch, type Problem } from './problem'
import { refreshableCodes } from './client'
import type { Session } from './session'

/** One dispatched server-sent event. `id` is the last event id seen so far on the stream. */
export interface SSEEvent {
  type: string
  data: string
  id: string
}

/**
 * An incremental text/event-stream parser following the HTML standard's rules: lines end in
 * CRLF, LF or CR (also when split across chunks); `:` starts a comment; one optional space
 * after the colon is dropped; data lines join with "\n"; an event is dispatched at a blank
 * line and only if it has data; `id` persists until replaced (an id with NUL is ignored);
 * `retry` takes digits only; an unterminated event at the end of the stream is dropped.
 */
export class SSEParser {
  /** The id to send as Last-Event-ID when reconnecting. */
  lastEventId: string
  /** The reconnection delay the server asked for, in ms (undefined until it does). */
  retry: number | undefined

  private buf = ''
  private skipLF = false
  private started = false
  private data = ''
  private hasData = false
  private type = ''
  private idBuffer: string

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId
    this.idBuffer = lastEventId
  }

  /** Parses the next decoded chunk and returns the events it completed. */
  push(chunk: string): SSEEvent[] {
    if (!this.started && chunk.length > 0) {
      this.started = true
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1)
    }
    const out: SSEEvent[] = []
    let text = this.buf + chunk
    this.buf = ''
    if (this.skipLF && text.startsWith('\n')) text = text.slice(1)
    this.skipLF = false
    let start = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c !== 10 && c !== 13) continue
      this.line(text.slice(start, i), out)
      if (c === 13) {
        if (i + 1 === text.length) this.skipLF = true
        else if (text.charCodeAt(i + 1) === 10) i++
      }
      start = i + 1
    }
    this.buf = text.slice(start)
    return out
  }

  private line(line: string, out: SSEEvent[]): void {
    if (line === '') {
      this.dispatch(out)
      return
    }
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        this.type = value
        break
      case 'data':
        this.data = this.hasData ? `${this.data}\n${value}` : value
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value)
        break
    }
  }

  private dispatch(out: SSEEvent[]): void {
    this.lastEventId = this.idBuffer
    if (this.hasData) out.push({ type: this.type || 'message', data: this.data, id: this.lastEventId })
    this.data = ''
    this.hasData = false
    this.type = ''
  }
}

export interface StreamOptions {
  /** Full URL or path of the stream operation, e.g. /api/v1/orders/{id}/live. */
  url: string
  onEvent(event: SSEEvent): void
  /** Called each time a connection is open (after a reconnect too). */
  onOpen?(): void
  /** Called when the stream stops for good: a refusal that reconnecting cannot cure. */
  onProblem?(problem: Problem): void
  /** Signs the request and refreshes on a 401, like the API client does. */
  session?: Session
  /** Resume after this id (e.g. one kept from an earlier page). */
  lastEventId?: string
  /** First reconnect delay until the server sends `retry:` (default 3000 ms). */
  retryMs?: number
  /** Cap for the delay, which doubles while connections keep failing (default 30000 ms). */
  maxRetryMs?: number
  fetch?: Fetch
  /** Waits ms or until signal aborts; replaceable in tests. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>
}

/** A running stream; close() stops it and any pending reconnect. */
export interface EventStream {
  close(): void
  readonly lastEventId: string
  /** Settles once the stream has stopped (closed, or a problem ended it). */
  readonly done: Promise<void>
}

/**
 * Follows a server-sent event stream with fetch, because EventSource cannot send the
 * Authorization header. It reconnects after the stream ends or fails, sending Last-Event-ID so
 * the server resumes after the last event received, waits what the server's `retry:` asks
 * (doubling while attempts keep failing), refreshes the access token once on a refreshable
 * 401, and stops on any other 4xx (reported through onProblem).
 */
export function openEventStream(opts: StreamOptions): EventStream {
  const ac = new AbortController()
  const wait = opts.wait ?? abortableWait
  const doFetch = (req: Request) => (opts.fetch ?? globalThis.fetch)(req)
  const base = opts.retryMs ?? 3000
  const max = opts.maxRetryMs ?? 30000
  let lastEventId = opts.lastEventId ?? ''
  let serverRetry: number | undefined

  async function run(): Promise<void> {
    let failures = 0
    let refreshed = false
    while (!ac.signal.aborted) {
      const headers = new Headers({ Accept: 'text/event-stream', 'Cache-Control': 'no-cache' })
      if (lastEventId) headers.set('Last-Event-ID', lastEventId)
      const token = opts.session?.accessToken ?? null
      if (token) headers.set('Authorization', `Bearer ${token}`)
      let res: Response
      try {
        res = await doFetch(new Request(resolve(opts.url), { headers, signal: ac.signal }))
      } catch {
        if (ac.signal.aborted) return
        await wait(delay(failures++), ac.signal)
        continue
      }
      if (!res.ok) {
        const problem = (await readProblem(res)) ?? {
          status: res.status,
          code: clientCodes.unexpected,
          title: res.statusText || 'Unexpected response',
        }
        if (res.status === 401 && token && opts.session && !refreshed && refreshableCodes.has(problem.code)) {
          refreshed = true
          if (await opts.session.refresh(token)) continue
        }
        if (res.status < 500 && res.status !== 429 && res.status !== 408) {
          opts.onProblem?.(problem)
          return
        }
        const after = retryAfter(res)
        await wait(after ?? delay(failures++), ac.signal)
        continue
      }
      refreshed = false
      opts.onOpen?.()
      const received = await read(res)
      if (ac.signal.aborted) return
      // A stream that delivered events was healthy: start the backoff again from the bottom.
      if (received) failures = 0
      await wait(delay(failures++), ac.signal)
    }
  }

  /** Reads one connection to its end; resolves whether any event arrived. */
  async function read(res: Response): Promise<boolean> {
    const parser = new SSEParser(lastEventId)
    let received = false
    if (!res.body) return false
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        for (const ev of parser.push(value)) {
          received = true
          lastEventId = parser.lastEventId
          opts.onEvent(ev)
        }
        lastEventId = parser.lastEventId
        if (parser.retry !== undefined) serverRetry = parser.retry
      }
    } catch {
      // A dropped connection ends this read like a closed stream does: reconnect.
    } finally {
      reader.releaseLock()
    }
    return received
  }

  function delay(failures: number): number {
    const first = serverRetry ?? base
    return Math.min(first * 2 ** Math.min(failures, 10), Math.max(max, first))
  }

  const done = run().catch(() => undefined)
  return {
    close: () => ac.abort(),
    get lastEventId() {
      return lastEventId
    },
    done,
  }
}

function resolve(url: string): string {
  const origin = globalThis.location?.origin
  return origin && url.startsWith('/') ? origin + url : url
}

function retryAfter(res: Response): number | undefined {
  const v = res.headers.get('Retry-After')
  if (v && /^\d+$/.test(v)) return Number(v) * 1000
  return undefined
}

function abortableWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
  })
}
