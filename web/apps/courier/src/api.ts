import { createApi, createSession } from '@paotui/api'

// Couriers are tenant users like students: this shares the student app's sign-in.
export const session = createSession({ kind: 'tenant' })
export const api = createApi({ session })
