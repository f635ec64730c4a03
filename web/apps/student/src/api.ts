import { createApi, createSession } from '@paotui/api'

// Students and couriers are the same tenant users: the courier app at /courier shares this
// sign-in (same origin, same storage key).
export const session = createSession({ kind: 'tenant' })
export const api = createApi({ session })
