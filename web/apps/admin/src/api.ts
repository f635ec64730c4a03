import { createApi, createSession } from '@paotui/api'

// Staff sign in apart from the student app on the same host, so one browser can hold a
// student and a staff sign-in at once (testing, a staff member who also orders).
export const session = createSession({ kind: 'tenant', key: 'paotui.session.admin' })
export const api = createApi({ session })
