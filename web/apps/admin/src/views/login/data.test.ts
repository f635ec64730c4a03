import { describe, expect, it } from 'vitest'
import { validateLogin } from './data'

describe('validateLogin', () => {
  it('checks the phone and only the secret of the chosen mode', () => {
    expect(validateLogin({ mode: 'password', phone: '13800000000', password: 'x', code: '' })).toEqual({})
    expect(validateLogin({ mode: 'password', phone: '1380000000', password: '', code: '' })).toEqual({ phone: 'phone', password: 'required' })
    expect(validateLogin({ mode: 'sms', phone: '13800000000', password: '', code: '12' })).toEqual({ code: 'required' })
    expect(validateLogin({ mode: 'sms', phone: '13800000000', password: '', code: '123456' })).toEqual({})
  })
})
