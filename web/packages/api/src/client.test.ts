import { describe, expect, it } from 'vitest'
import { createApi } from './client'
import { IdempotencyKey } from './idempotency'
import { isProblem } from './problem'
import { Session, apiRefresher, localLock, memoryStorage, type LockRunner, type SignOutReason, type TokenStorage } from './session'

const base = 'http://tenant.test'

function problem(status: number, code: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ title: 'x', status, code, detail: `${code} detail`, ...extra }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  })
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms))

interface Sent {
  path: string
  auth: string | null
  body: string
  key: string | null
}

/**
 * A fake API: access tokens in `valid` are accepted, refresh token `r1` rotates to a2/r2 once
 * (a second use is a reuse), and every request is recorded.
 */
function fakeServer(opts: { valid?: string[]; refresh?: (token: string) => Promise<Response>; expiredCode?: string } = {}) {
  const valid = new Set(opts.valid ?? ['a2'])
  const sent: Sent[] = []
  let refreshes = 0
  const used = new Set<string>()
  const fetch = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    const body = req.body ? await req.text() : ''
    if (url.pathname === '/api/v1/auth/refresh') {
      refreshes++
      const { refreshToken } = JSON.parse(body) as { refreshToken: string }
      if (opts.refresh) return opts.refresh(refreshToken)
      await tick(5)
      if (refreshToken !== 'r1' || used.has(refreshToken)) return problem(401, 'refresh_token_reused')
      used.add(refreshToken)
      return json({ accessToken: 'a2', refreshToken: 'r2', tokenType: 'Bearer', expiresAt: '', refreshExpiresAt: '' })
    }
    const auth = req.headers.get('Authorization')
    sent.push({ path: url.pathname, auth, body, key: req.headers.get('Idempotency-Key') })
    if (!auth || !valid.has(auth.slice(7))) return problem(401, opts.expiredCode ?? 'token_invalid')
    return json({ ok: true, path: url.pathname, body })
  }
  return {
    fetch,
    sent,
    get refreshes() {
      return refreshes
    },
  }
}

// No cross-tab lock: these tests prove the single flight within one tab on its own.
const noLock: LockRunner = (_name, fn) => fn()

function signedIn(fetch: (r: Request) => Promise<Response>, storage: TokenStorage = memoryStorage()) {
  const session = new Session({ key: 's', storage, lock: noLock, refresher: apiRefresher('tenant', base, fetch) })
  session.set({ accessToken: 'a1', refreshToken: 'r1' })
  const api = createApi({ baseUrl: base, session, fetch })
  return { session, api }
}

describe('auth middleware', () => {
  it('signs requests with the access token', async () => {
    const server = fakeServer({ valid: ['a1'] })
    const { api } = signedIn(server.fetch)
    const { data, error } = await api.GET('/api/v1/me')
    expect(error).toBeUndefined()
    expect(data).toBeDefined()
    expect(server.sent.map((s) => s.auth)).toEqual(['Bearer a1'])
    expect(server.refreshes).toBe(0)
  })

  it('shares one refresh between concurrent 401s and retries each request once', async () => {
    const server = fakeServer()
    const { api, session } = signedIn(server.fetch)
    const results = await Promise.all([
      api.GET('/api/v1/me'),
      api.GET('/api/v1/me/orders'),
      api.GET('/api/v1/me/wallet'),
    ])
    for (const r of results) expect(r.error).toBeUndefined()
    expect(server.refreshes).toBe(1)
    expect(server.sent.filter((s) => s.auth === 'Bearer a1')).toHaveLength(3)
    expect(server.sent.filter((s) => s.auth === 'Bearer a2')).toHaveLength(3)
    expect(session.tokens).toMatchObject({ accessToken: 'a2', refreshToken: 'r2' })
  })

  it('retries a 401 that arrives after the refresh finished with the new token, without refreshing again', async () => {
    const server = fakeServer()
    const { api, session } = signedIn(server.fetch)
    let releaseSlow!: () => void
    const slowGate = new Promise<void>((r) => (releaseSlow = r))
    const slowFetch = async (req: Request) => {
      if (new URL(req.url).pathname === '/api/v1/me/wallet' && req.headers.get('Authorization') === 'Bearer a1') {
        await slowGate
      }
      return server.fetch(req)
    }
    const slowApi = createApi({ baseUrl: base, session, fetch: slowFetch })
    const late = slowApi.GET('/api/v1/me/wallet')
    const first = await api.GET('/api/v1/me')
    expect(first.error).toBeUndefined()
    expect(server.refreshes).toBe(1)
    releaseSlow()
    const { error } = await late
    expect(error).toBeUndefined()
    expect(server.refreshes).toBe(1)
  })

  it('sends a retried POST with the same body and Idempotency-Key', async () => {
    const server = fakeServer()
    const { api } = signedIn(server.fetch)
    const key = new IdempotencyKey()
    const { error } = await api.POST('/api/v1/orders/{orderId}/pay', {
      params: { path: { orderId: '00000000-0000-0000-0000-000000000001' }, header: key.header() },
      body: { method: 'wallet' },
    })
    expect(error).toBeUndefined()
    expect(server.sent).toHaveLength(2)
    const [first, retry] = server.sent
    expect(retry?.auth).toBe('Bearer a2')
    expect(retry?.body).toBe(first?.body)
    expect(JSON.parse(retry?.body ?? '')).toEqual({ method: 'wallet' })
    expect(retry?.key).toBe(key.value)
    expect(first?.key).toBe(key.value)
  })

  it('retries only once: a second 401 reaches the caller', async () => {
    const server = fakeServer({ valid: [] })
    const { api, session } = signedIn(server.fetch)
    const { data, error, response } = await api.GET('/api/v1/me')
    expect(data).toBeUndefined()
    expect(response.status).toBe(401)
    expect(isProblem(error) && error.code).toBe('token_invalid')
    expect(server.sent).toHaveLength(2)
    expect(server.refreshes).toBe(1)
    expect(session.signedIn).toBe(true)
  })

  it('refreshes on token_expired too', async () => {
    const server = fakeServer({ expiredCode: 'token_expired' })
    const { api } = signedIn(server.fetch)
    const { error } = await api.GET('/api/v1/me')
    expect(error).toBeUndefined()
    expect(server.refreshes).toBe(1)
  })

  it('signs out when the server refuses the refresh and returns the original problem', async () => {
    const server = fakeServer({ refresh: async () => problem(401, 'refresh_token_reused') })
    const { api, session } = signedIn(server.fetch)
    const reasons: (SignOutReason | undefined)[] = []
    session.subscribe((tokens, reason) => tokens === null && reasons.push(reason))
    const { error, response } = await api.GET('/api/v1/me')
    expect(response.status).toBe(401)
    expect(isProblem(error) && error.code).toBe('token_invalid')
    expect(session.signedIn).toBe(false)
    expect(reasons).toEqual(['refresh_rejected'])
    expect(server.sent).toHaveLength(1)
  })

  it('keeps the session when the refresh endpoint is unreachable', async () => {
    const server = fakeServer({
      refresh: async () => {
        throw new TypeError('fetch failed')
      },
    })
    const { api, session } = signedIn(server.fetch)
    const { response } = await api.GET('/api/v1/me')
    expect(response.status).toBe(401)
    expect(session.tokens?.refreshToken).toBe('r1')
  })

  it('keeps the session when the tenant is paused at refresh time', async () => {
    const server = fakeServer({ refresh: async () => problem(403, 'tenant_suspended') })
    const { api, session } = signedIn(server.fetch)
    await api.GET('/api/v1/me')
    expect(session.signedIn).toBe(true)
  })

  it('does not refresh for 401s a new token cannot cure', async () => {
    const server = fakeServer({ expiredCode: 'impersonation_expired' })
    const { api } = signedIn(server.fetch)
    const { error } = await api.GET('/api/v1/me')
    expect(isProblem(error) && error.code).toBe('impersonation_expired')
    expect(server.refreshes).toBe(0)
  })

  it('sends no token and never refreshes when signed out', async () => {
    const server = fakeServer()
    const session = new Session({ key: 's', storage: memoryStorage(), lock: noLock, refresher: apiRefresher('tenant', base, server.fetch) })
    const api = createApi({ baseUrl: base, session, fetch: server.fetch })
    await api.GET('/api/v1/me')
    expect(server.sent[0]?.auth).toBeNull()
    expect(server.refreshes).toBe(0)
  })
})

describe('problems', () => {
  it('returns a validation problem as a typed error with its field errors', async () => {
    const fetch = async () =>
      problem(422, 'invalid_phone', { errors: [{ location: 'body.phone', message: 'enter an 11-digit number' }] })
    const api = createApi({ baseUrl: base, fetch })
    const { error } = await api.POST('/api/v1/auth/sms-code', { body: { phone: '123' } })
    expect(isProblem(error)).toBe(true)
    expect(error?.code).toBe('invalid_phone')
    expect(error?.errors?.[0]?.location).toBe('body.phone')
  })

  it('turns a failed fetch into a network_error problem instead of throwing', async () => {
    const fetch = async (): Promise<Response> => {
      throw new TypeError('fetch failed')
    }
    const api = createApi({ baseUrl: base, fetch })
    const { error } = await api.GET('/api/v1/branding')
    expect(isProblem(error) && error.code).toBe('network_error')
  })

  it('lets an abort through', async () => {
    const fetch = async (): Promise<Response> => {
      throw new DOMException('aborted', 'AbortError')
    }
    const api = createApi({ baseUrl: base, fetch })
    await expect(api.GET('/api/v1/branding')).rejects.toThrow('aborted')
  })

  it.each([
    ['a problem', { status: 404, code: 'order_not_found', title: 'Not Found' }, true],
    ['no code', { status: 404, title: 'Not Found' }, false],
    ['empty code', { status: 404, code: '' }, false],
    ['string status', { status: '404', code: 'x' }, false],
    ['null', null, false],
    ['html', '<html>', false],
  ])('isProblem: %s', (_name, value, want) => {
    expect(isProblem(value)).toBe(want)
  })
})

describe('session across tabs', () => {
  it('lets only one of two tabs spend the refresh token; the other adopts its result', async () => {
    const server = fakeServer()
    const storage = memoryStorage()
    const lock = localLock() // stands in for navigator.locks, which tabs share
    const refresher = apiRefresher('tenant', base, server.fetch)
    const tabA = new Session({ key: 's', storage, lock, refresher })
    const tabB = new Session({ key: 's', storage, lock, refresher })
    tabA.set({ accessToken: 'a1', refreshToken: 'r1' })
    const [a, b] = await Promise.all([tabA.refresh('a1'), tabB.refresh('a1')])
    expect([a, b]).toEqual([true, true])
    expect(server.refreshes).toBe(1)
    expect(tabB.accessToken).toBe('a2')
  })
})

describe('IdempotencyKey', () => {
  it('keeps one key across retries of an action and changes it for the next action', () => {
    const k = new IdempotencyKey()
    const first = k.header()['Idempotency-Key']
    expect(k.header()['Idempotency-Key']).toBe(first)
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    k.renew()
    expect(k.value).not.toBe(first)
  })
})
