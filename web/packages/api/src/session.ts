import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { isProblem, type Fetch } from './problem'

/** The tokens of a signed-in session, as sign-in and refresh return them. */
export interface Tokens {
  accessToken: string
  refreshToken: string
  expiresAt?: string
  refreshExpiresAt?: string
}

/**
 * What a refresh attempt came to. `rejected` means the server refused the refresh token (it
 * expired, was revoked or reused): the session is over. Otherwise the failure was transient
 * (offline, 5xx) and the session is kept for the next try.
 */
export type RefreshResult = { ok: true; tokens: Tokens } | { ok: false; rejected: boolean }

/** Swaps a refresh token for new tokens. */
export type Refresher = (refreshToken: string) => Promise<RefreshResult>

/** The part of the Storage API the session uses (localStorage, or a map in tests). */
export interface TokenStorage {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/** Runs fn while holding a lock named name; the Web Locks API shares it between tabs. */
export type LockRunner = <T>(name: string, fn: () => Promise<T>) => Promise<T>

/** Why a session ended: the user signed out, or the server would not refresh it. */
export type SignOutReason = 'signed_out' | 'refresh_rejected'

export interface SessionOptions {
  /** Storage key; apps on one origin that share a sign-in share the key. */
  key: string
  refresher: Refresher
  /** Defaults to localStorage, or memory when it is unavailable (private mode). */
  storage?: TokenStorage
  /** Defaults to navigator.locks when the browser has it, else a lock within this tab only. */
  lock?: LockRunner
}

/**
 * The signed-in user's tokens, persisted so a reload keeps the sign-in.
 *
 * Refresh tokens rotate and reusing a rotated one revokes the whole session, so refreshing is
 * single-flight within a tab (concurrent callers share one request) and, through a Web Lock,
 * across tabs: a tab that waited for the lock re-reads storage and adopts the tokens another
 * tab already got instead of spending its stale refresh token.
 */
export class Session {
  readonly key: string
  private readonly storage: TokenStorage
  private readonly refresher: Refresher
  private readonly lock: LockRunner
  private inflight: Promise<boolean> | null = null
  private readonly listeners = new Set<(tokens: Tokens | null, reason?: SignOutReason) => void>()

  constructor(opts: SessionOptions) {
    this.key = opts.key
    this.refresher = opts.refresher
    this.storage = opts.storage ?? defaultStorage()
    this.lock = opts.lock ?? defaultLock()
  }

  /** The current tokens, read through storage so another tab's rotation is seen at once. */
  get tokens(): Tokens | null {
    const raw = this.storage.getItem(this.key)
    if (!raw) return null
    try {
      const t = JSON.parse(raw) as Partial<Tokens>
      if (typeof t.accessToken === 'string' && typeof t.refreshToken === 'string') return t as Tokens
    } catch {
      // A damaged entry is treated as signed out.
    }
    return null
  }

  get accessToken(): string | null {
    return this.tokens?.accessToken ?? null
  }

  get signedIn(): boolean {
    return this.tokens !== null
  }

  /** Stores the tokens of a sign-in (or of a refresh done elsewhere). */
  set(tokens: Tokens): void {
    const { accessToken, refreshToken, expiresAt, refreshExpiresAt } = tokens
    this.storage.setItem(this.key, JSON.stringify({ accessToken, refreshToken, expiresAt, refreshExpiresAt }))
    this.emit(this.tokens)
  }

  /** Forgets the tokens; listeners hear the reason (a refresh the server refused, or the user). */
  signOut(reason: SignOutReason = 'signed_out'): void {
    this.storage.removeItem(this.key)
    this.emit(null, reason)
  }

  /** Calls fn on every sign-in, refresh and sign-out; returns the unsubscribe function. */
  subscribe(fn: (tokens: Tokens | null, reason?: SignOutReason) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /**
   * Gets a fresh access token after a request made with staleAccessToken was refused. Resolves
   * true when a newer token is ready (retry the request), false when there is none: then the
   * session is signed out if the server rejected the refresh, and kept if it was unreachable.
   */
  refresh(staleAccessToken?: string): Promise<boolean> {
    const current = this.accessToken
    if (current === null) return Promise.resolve(false)
    // A request that went out before the last refresh finished comes back 401 late; the token
    // it carried is already replaced, so spending the refresh token again would be a reuse.
    if (staleAccessToken !== undefined && current !== staleAccessToken) return Promise.resolve(true)
    if (this.inflight) return this.inflight
    const stale = staleAccessToken ?? current
    this.inflight = this.lock(`paotui-refresh:${this.key}`, () => this.refreshLocked(stale)).finally(() => {
      this.inflight = null
    })
    return this.inflight
  }

  private async refreshLocked(stale: string): Promise<boolean> {
    const tokens = this.tokens
    if (tokens === null) return false
    if (tokens.accessToken !== stale) return true // another tab refreshed while we waited
    let result: RefreshResult
    try {
      result = await this.refresher(tokens.refreshToken)
    } catch {
      result = { ok: false, rejected: false }
    }
    if (result.ok) {
      this.set(result.tokens)
      return true
    }
    if (result.rejected) this.signOut('refresh_rejected')
    return false
  }

  private emit(tokens: Tokens | null, reason?: SignOutReason): void {
    for (const fn of this.listeners) fn(tokens, reason)
  }
}

/** Which sign-in a session belongs to: a tenant's users, or the platform's admins. */
export type SessionKind = 'tenant' | 'platform'

export interface ApiSessionOptions {
  kind: SessionKind
  /** Defaults to "paotui.session" (tenant) or "paotui.platform.session". */
  key?: string
  /** Origin of the API; "" for the page's own origin. */
  baseUrl?: string
  fetch?: Fetch
  storage?: TokenStorage
  lock?: LockRunner
}

/** A session refreshed through the API's refresh operation for its kind. */
export function createSession(opts: ApiSessionOptions): Session {
  return new Session({
    key: opts.key ?? (opts.kind === 'tenant' ? 'paotui.session' : 'paotui.platform.session'),
    refresher: apiRefresher(opts.kind, opts.baseUrl ?? '', opts.fetch),
    storage: opts.storage,
    lock: opts.lock,
  })
}

/**
 * A Refresher calling refresh-token (tenant) or platform-refresh-token. It uses a client of
 * its own, without the auth middleware, so a refused refresh cannot trigger another refresh.
 */
export function apiRefresher(kind: SessionKind, baseUrl: string, fetchImpl?: Fetch): Refresher {
  // Resolved at call time so tests (and polyfills) that replace fetch after start-up are used.
  const client = createClient<paths>({ baseUrl, fetch: (req) => (fetchImpl ?? globalThis.fetch)(req) })
  return async (refreshToken) => {
    const body = { refreshToken }
    const { data, error, response } =
      kind === 'tenant'
        ? await client.POST('/api/v1/auth/refresh', { body })
        : await client.POST('/api/v1/platform/auth/refresh', { body })
    if (data) return { ok: true, tokens: data }
    // 401 (invalid, reused) and 422 (malformed) mean this refresh token will never work, and
    // so does a disabled account. Other refusals (a paused tenant, 5xx) may pass: keep the
    // tokens so the user is still signed in when the service is back.
    const code = isProblem(error) ? error.code : ''
    const rejected = response.status === 401 || response.status === 422 || code === 'account_disabled'
    return { ok: false, rejected }
  }
}

function defaultStorage(): TokenStorage {
  try {
    const s = globalThis.localStorage
    const probe = '__paotui_probe__'
    s.setItem(probe, '1')
    s.removeItem(probe)
    return s
  } catch {
    return memoryStorage()
  }
}

/** A TokenStorage kept in memory: a sign-in lasts until the page is closed. */
export function memoryStorage(): TokenStorage {
  const m = new Map<string, string>()
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  }
}

function defaultLock(): LockRunner {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  if (locks?.request) {
    return (name, fn) => locks.request(name, fn) as Promise<Awaited<ReturnType<typeof fn>>>
  }
  return localLock()
}

/** A lock that serializes callers within this JavaScript realm only. */
export function localLock(): LockRunner {
  const tails = new Map<string, Promise<unknown>>()
  return <T>(name: string, fn: () => Promise<T>) => {
    const prev = tails.get(name) ?? Promise.resolve()
    const run = prev.then(fn)
    tails.set(
      name,
      run.catch(() => undefined),
    )
    return run
  }
}
