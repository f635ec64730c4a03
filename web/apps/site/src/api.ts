import { createApi } from '@paotui/api'

// The landing and signup need no sign-in.
export const api = createApi()
