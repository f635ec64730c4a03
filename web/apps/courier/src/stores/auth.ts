// Who is signed in: the tenant session (shared with the student app) and the user behind it.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Problem, Schema } from '@paotui/api'
import { api, session } from '../api'

export const useAuth = defineStore('auth', () => {
  const me = ref<Schema<'MeView'> | null>(null)
  const signedIn = ref(session.signedIn)
  session.subscribe((tokens) => {
    signedIn.value = tokens !== null
    if (!tokens) me.value = null
  })

  const isCourier = computed(() => (me.value?.roles ?? []).includes('courier'))

  /** Loads the user; resolves the problem when that failed (null when fine). */
  async function loadMe(): Promise<Problem | null> {
    if (!session.signedIn) return null
    const { data, error } = await api.GET('/api/v1/me')
    if (error) return error
    me.value = data
    return null
  }

  async function sendCode(phone: string) {
    return api.POST('/api/v1/auth/sms-code', { body: { phone: phone.trim() } })
  }

  async function signIn(phone: string, code: string): Promise<Problem | null> {
    const { data, error } = await api.POST('/api/v1/auth/login', { body: { phone: phone.trim(), code: code.trim() } })
    if (error) return error
    session.set({
      accessToken: data.accessToken,
      refreshToken: data.refreshToken,
      expiresAt: data.expiresAt,
      refreshExpiresAt: data.refreshExpiresAt,
    })
    me.value = data.user
    return null
  }

  async function signOut(): Promise<void> {
    const refreshToken = session.tokens?.refreshToken
    // The server revokes the refresh token; the local session ends whatever it answers.
    if (refreshToken) await api.POST('/api/v1/auth/logout', { body: { refreshToken } })
    session.signOut()
  }

  return { me, signedIn, isCourier, loadMe, sendCode, signIn, signOut }
})
