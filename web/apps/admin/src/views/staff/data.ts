// Staff screen: the roles staff can grant, the grant form's checks and which of a member's
// roles the screen offers to revoke.

/** The built-in staff roles, most powerful first (internal/authz StaffRoles). */
export const staffRoles = ['owner', 'admin', 'dispatcher', 'finance', 'support'] as const

/** Students sign up and couriers apply; grant-role refuses both (role_not_grantable). */
const selfServiceRoles = new Set(['student', 'courier'])

/** Custom roles are the tenant's own names (the server checks they exist); the API takes 2-40 characters. */
const roleName = /^\S{2,40}$/u

export interface GrantForm {
  phone: string
  role: string
  name: string
}

export function emptyGrant(): GrantForm {
  return { phone: '', role: 'dispatcher', name: '' }
}

/** A mainland mobile number without spaces, dashes or the +86 prefix the server also accepts. */
export function normalizePhone(s: string): string {
  const digits = s.replace(/[\s-]/g, '')
  return digits.replace(/^(\+?86)(?=1\d{10}$)/, '')
}

/** Field -> message key (admin.validation.*); empty when the form can be sent. */
export function validateGrant(f: GrantForm): Record<string, string> {
  const errs: Record<string, string> = {}
  if (!/^1\d{10}$/.test(normalizePhone(f.phone))) errs.phone = 'phone'
  const role = f.role.trim()
  if (!role) errs.role = 'required'
  else if (selfServiceRoles.has(role) || !roleName.test(role)) errs.role = 'role'
  if ([...f.name.trim()].length > 64) errs.name = 'tooLong'
  return errs
}

export function grantBody(f: GrantForm): { phone: string; role: string; name?: string } {
  const body: { phone: string; role: string; name?: string } = { phone: normalizePhone(f.phone), role: f.role.trim() }
  if (f.name.trim()) body.name = f.name.trim()
  return body
}

/** The roles of a member this screen manages: staff roles, not the student or courier role. */
export function manageableRoles(roles: readonly string[] | null | undefined): string[] {
  return (roles ?? []).filter((r) => !selfServiceRoles.has(r))
}

/** Built-in roles by their translated name; custom roles as they are called. */
export function isBuiltinRole(role: string): boolean {
  return (staffRoles as readonly string[]).includes(role)
}
