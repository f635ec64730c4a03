// The signed-in platform admin (get-platform-me).
import { ref } from 'vue'
import type { Schema } from '@paotui/api'
import { api, session } from './api'

export const admin = ref<Schema<'Admin'> | null>(null)

export async function loadAdmin(): Promise<Schema<'Admin'> | null> {
  if (!session.signedIn) return null
  const { data } = await api.GET('/api/v1/platform/me')
  admin.value = data ?? null
  return admin.value
}

export async function signOut(): Promise<void> {
  const refreshToken = session.tokens?.refreshToken
  if (refreshToken) await api.POST('/api/v1/platform/auth/logout', { body: { refreshToken } })
  session.signOut()
  admin.value = null
}
