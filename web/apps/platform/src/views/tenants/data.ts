// Tenants screen: the search form as list-tenants query, and the reason every status change
// and impersonation must carry (it goes to the audit log).
export const tenantStatuses = ['provisioning', 'active', 'suspended', 'deleted'] as const
export type TenantStatus = (typeof tenantStatuses)[number]

export interface TenantFilter {
  q: string
  status: TenantStatus | ''
  plan: string
}

export function tenantQuery(f: TenantFilter, page: number, size: number) {
  const q: { q?: string; status?: TenantStatus; plan?: string; limit: number; offset: number } = { limit: size, offset: (page - 1) * size }
  if (f.q.trim()) q.q = f.q.trim()
  if (f.status) q.status = f.status
  if (f.plan) q.plan = f.plan
  return q
}

export type TenantAction = 'suspend' | 'resume' | 'impersonate'

/** What a tenant in this status can be put through. */
export function actionsFor(status: TenantStatus): TenantAction[] {
  switch (status) {
    case 'active':
      return ['suspend', 'impersonate']
    case 'suspended':
      return ['resume', 'impersonate']
    default:
      return []
  }
}

/** The tenant admin's address carrying the impersonation token in the fragment. */
export function impersonationUrl(adminUrl: string, token: string): string {
  return `${adminUrl.replace(/#.*$/, '')}#impersonate=${encodeURIComponent(token)}`
}
