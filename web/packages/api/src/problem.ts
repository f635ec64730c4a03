import type { components } from './schema'

/** How the client sends requests: fetch, or a stand-in taking a Request (tests, wrappers). */
export type Fetch = (request: Request) => Promise<Response>

/** An RFC 9457 problem as the API sends it; clients switch on `code`, people read `detail`. */
export type Problem = components['schemas']['Problem']

/** One field-level error of a validation problem; `location` is like "body.phone". */
export type ProblemFieldError = components['schemas']['ErrorDetail']

/**
 * Codes the client itself produces, so every failure reaches screens as a Problem. They never
 * come from the server and are translated like the server's codes.
 */
export const clientCodes = {
  /** The request never got an answer: offline, DNS, connection reset. */
  network: 'network_error',
  /** The server answered something that is not a problem document (a proxy's HTML page). */
  unexpected: 'unexpected_response',
} as const

/** Whether v looks like a problem document: it has a string code and a numeric status. */
export function isProblem(v: unknown): v is Problem {
  if (typeof v !== 'object' || v === null) return false
  const p = v as Record<string, unknown>
  return typeof p.code === 'string' && p.code !== '' && typeof p.status === 'number'
}

/**
 * Returns the problem an error value carries, or a generic one for anything else (a non-JSON
 * body, a thrown Error), so callers always have a code to translate.
 */
export function toProblem(error: unknown, status = 0): Problem {
  if (isProblem(error)) return error
  if (error instanceof Error) {
    return { status, code: clientCodes.network, title: 'Network error', detail: error.message }
  }
  return {
    status,
    code: clientCodes.unexpected,
    title: 'Unexpected response',
    detail: typeof error === 'string' ? error.slice(0, 200) : undefined,
  }
}

/**
 * Builds a problem+json Response; the client middleware answers with one when fetch itself
 * fails, so callers get `{ error }` instead of an exception.
 */
export function problemResponse(p: Problem): Response {
  // A Response cannot carry status 0; 503 keeps response.ok false and says "try again".
  const status = p.status >= 200 && p.status <= 599 ? p.status : 503
  return new Response(JSON.stringify({ ...p, status }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  })
}

/** Reads a problem from a response without consuming it; undefined when the body is not one. */
export async function readProblem(res: Response): Promise<Problem | undefined> {
  const type = res.headers.get('Content-Type') ?? ''
  if (!type.includes('json')) return undefined
  try {
    const body: unknown = await res.clone().json()
    return isProblem(body) ? body : undefined
  } catch {
    return undefined
  }
}
