import { createApi, createSession } from '@paotui/api'

// Platform admins sign in on admin.<base>; their tokens refresh through the platform endpoint.
export const session = createSession({ kind: 'platform' })
export const api = createApi({ session })
