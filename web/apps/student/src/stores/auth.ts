import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Schema } from '@paotui/api'
import { api, session } from '../api'

/** Who is signed in. Tokens live in the shared session (storage); this mirrors them for views. */
export const useAuth = defineStore('auth', () => {
  const signedIn = ref(session.signedIn)
  const me = ref<Schema<'MeView'> | null>(null)
  session.subscribe((tokens) => {
    signedIn.value = tokens !== null
    if (tokens === null) me.value = null
  })

  function signedInAs(view: Schema<'SessionView'>) {
    session.set(view)
    me.value = view.user
  }

  async function loadMe() {
    const { data } = await api.GET('/api/v1/me')
    if (data) me.value = data
  }

  /** Ends the session on the server too (best effort: offline, the tokens are dropped anyway). */
  async function signOut() {
    const refreshToken = session.tokens?.refreshToken
    if (refreshToken) await api.POST('/api/v1/auth/logout', { body: { refreshToken } })
    session.signOut()
  }

  return { signedIn, me, signedInAs, loadMe, signOut }
})
