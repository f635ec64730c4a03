// The signed-in staff member: who they are (get-me), what they may do, and the impersonation
// hand-off from the super-admin panel.
import { ref } from 'vue'
import type { Schema } from '@paotui/api'
import { api, session } from './api'

export type Me = Schema<'MeView'>

export const me = ref<Me | null>(null)

/** The fragment the platform panel appends to adminUrl when it impersonates a tenant. */
export const impersonationParam = 'impersonate'

/**
 * Takes an impersonation token from the URL fragment (kept out of server logs and Referer),
 * signs the admin in with it and removes it from the address bar. The token cannot be
 * refreshed: when it expires the admin falls back to sign-in.
 */
export function adoptImpersonation(hash: string, replace: (url: string) => void): boolean {
  const params = new URLSearchParams(hash.replace(/^#/, ''))
  const token = params.get(impersonationParam)
  if (!token) return false
  session.set({ accessToken: token, refreshToken: '' })
  me.value = null
  replace(location.pathname + location.search)
  return true
}

export async function loadMe(): Promise<Me | null> {
  if (!session.signedIn) return null
  const { data } = await api.GET('/api/v1/me')
  me.value = data ?? null
  return me.value
}

/** Staff are users with any permission beyond a student's or a courier's own. */
export function isStaff(m: Me | null): boolean {
  return !!m && (m.roles ?? []).some((r) => r !== 'student' && r !== 'courier')
}

/** Whether the permission list grants perm ("resource:action"); "*" is a wildcard on either side. */
export function grants(perms: readonly string[] | null | undefined, perm: string): boolean {
  const [res, act] = perm.split(':')
  return (perms ?? []).some((p) => {
    const [r, a] = p.split(':')
    return (r === '*' || r === res) && (a === undefined || a === '*' || a === act)
  })
}

export function can(perm: string): boolean {
  return grants(me.value?.permissions, perm)
}

export async function signOut(): Promise<void> {
  if (session.tokens?.refreshToken) await api.POST('/api/v1/auth/logout', { body: { refreshToken: session.tokens.refreshToken } })
  session.signOut()
  me.value = null
}
