// @paotui/api: the typed API client (generated from the server's OpenAPI document), the
// signed-in session with token refresh, problem helpers, idempotency keys and the event-stream
// reader every surface shares.
export type { paths, components, operations } from './schema'
export { createApi, authMiddleware, networkMiddleware, refreshableCodes, type Api, type ApiOptions } from './client'
export {
  Session,
  createSession,
  apiRefresher,
  memoryStorage,
  localLock,
  type Tokens,
  type Refresher,
  type RefreshResult,
  type TokenStorage,
  type LockRunner,
  type SessionKind,
  type SessionOptions,
  type ApiSessionOptions,
  type SignOutReason,
} from './session'
export { isProblem, toProblem, readProblem, problemResponse, clientCodes, type Problem, type ProblemFieldError, type Fetch } from './problem'
export { IdempotencyKey, keySpent, newIdempotencyKey, idempotencyHeader } from './idempotency'
export { SSEParser, openEventStream, type SSEEvent, type StreamOptions, type EventStream } from './sse'

import type { components } from './schema'

/** Schema shortcut: Schema<'Order'> is the API's Order object. */
export type Schema<K extends keyof components['schemas']> = components['schemas'][K]
