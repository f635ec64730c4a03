export interface LoginForm {
  mode: 'password' | 'sms'
  phone: string
  password: string
  code: string
}

/** Field -> message key (admin.validation.*); empty when the form can be sent. */
export function validateLogin(f: LoginForm): Record<string, string> {
  const errs: Record<string, string> = {}
  if (!/^1\d{10}$/.test(f.phone)) errs.phone = 'phone'
  if (f.mode === 'password' && f.password === '') errs.password = 'required'
  if (f.mode === 'sms' && !/^\d{4,8}$/.test(f.code)) errs.code = 'required'
  return errs
}
