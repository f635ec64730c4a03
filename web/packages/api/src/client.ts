import createClient, { type Client, type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { clientCodes, problemResponse, readProblem, type Fetch } from './problem'
import type { Session } from './session'

/** The typed API client: every call resolves to `{ data }` or `{ error }` and never throws. */
export type Api = Client<paths>

/** Codes of a 401 that a fresh access token can cure; other 401s end in sign-in. */
export const refreshableCodes: ReadonlySet<string> = new Set(['token_expired', 'token_invalid'])

export interface ApiOptions {
  /** Origin of the API; "" (the default) for the page's own origin. Paths carry /api/v1. */
  baseUrl?: string
  /** Signs requests with the session's access token and refreshes it on 401. */
  session?: Session
  fetch?: Fetch
}

/** Creates the API client for a surface; pass the session once the app has one. */
export function createApi(opts: ApiOptions = {}): Api {
  const client = createClient<paths>({
    baseUrl: opts.baseUrl ?? '',
    // Resolved per call, so a fetch replaced after start-up (tests, polyfills) is used.
    fetch: (req) => (opts.fetch ?? globalThis.fetch)(req),
  })
  client.use(networkMiddleware())
  // Last, so it signs the request exactly as it will be sent and keeps that copy for a retry.
  if (opts.session) client.use(authMiddleware(opts.session))
  return client
}

/** Turns a failed fetch (offline, reset) into a network_error problem; aborts still throw. */
export function networkMiddleware(): Middleware {
  return {
    onError({ error }) {
      if (error instanceof DOMException && error.name === 'AbortError') return
      const detail = error instanceof Error ? error.message : String(error)
      return problemResponse({ status: 503, code: clientCodes.network, title: 'Network error', detail })
    },
  }
}

/**
 * Adds `Authorization: Bearer <access token>` and, when the answer is a 401 a refresh can
 * cure, refreshes the session (one refresh shared by concurrent requests, see
 * Session.refresh) and sends the request again, once. If the refresh is refused the session
 * signs out and the caller gets the original 401.
 */
export function authMiddleware(session: Session): Middleware {
  // The body of a sent Request is consumed; the retry needs the copy taken before sending.
  const unsent = new WeakMap<Request, Request>()
  return {
    onRequest({ request }) {
      const token = session.accessToken
      if (token === null || request.headers.has('Authorization')) return
      const signed = withBearer(request, token)
      unsent.set(signed, signed.clone())
      return signed
    },
    async onResponse({ request, response, options }) {
      if (response.status !== 401) return
      const copy = unsent.get(request)
      unsent.delete(request)
      if (!copy) return
      const problem = await readProblem(response)
      if (!problem || !refreshableCodes.has(problem.code)) return
      const sent = bearerOf(request)
      if (!(await session.refresh(sent ?? undefined))) return
      const token = session.accessToken
      if (token === null) return
      try {
        return await options.fetch(withBearer(copy, token))
      } catch (error) {
        if (error instanceof DOMException && error.name === 'AbortError') throw error
        const detail = error instanceof Error ? error.message : String(error)
        return problemResponse({ status: 503, code: clientCodes.network, title: 'Network error', detail })
      }
    },
  }
}

function withBearer(request: Request, token: string): Request {
  const headers = new Headers(request.headers)
  headers.set('Authorization', `Bearer ${token}`)
  return new Request(request, { headers })
}

function bearerOf(request: Request): string | null {
  const h = request.headers.get('Authorization') ?? ''
  return h.toLowerCase().startsWith('bearer ') ? h.slice(7).trim() : null
}
