// Checks run before a form is sent, mirroring the server's rules so the common mistakes are
// caught without a round trip; the server stays the judge (its problems land on the fields too).

/** Delivery codes are 6 digits. */
export function validSixDigits(v: string): boolean {
  return /^\d{6}$/.test(v.trim())
}

export interface ApplicationForm {
  realName: string
  studentNo: string
  vehicle: 'walk' | 'bike' | 'ebike'
  note: string
}

/** Field name -> i18n key of the message, for the fields that are wrong. */
export type FormErrors<F> = Partial<Record<keyof F & string, string>>

export function validateApplication(f: ApplicationForm): FormErrors<ApplicationForm> {
  const errs: FormErrors<ApplicationForm> = {}
  const name = f.realName.trim()
  if (name.length < 2 || name.length > 32) errs.realName = 'courier.apply.realNameInvalid'
  if (!/^[A-Za-z0-9]{4,32}$/.test(f.studentNo.trim())) errs.studentNo = 'courier.apply.studentNoInvalid'
  return errs
}

export interface DeliverForm {
  code: string
  photoId: string
}

/** A delivery needs the student's code or an uploaded photo; a code, when typed, must be 6 digits. */
export function validateDeliver(f: DeliverForm): FormErrors<DeliverForm> {
  const code = f.code.trim()
  if (code === '' && f.photoId) return {}
  if (!validSixDigits(code)) return { code: 'courier.trips.deliveryCodeInvalid' }
  return {}
}

/** The body deliver-order expects: the code when given, else the photo. */
export function deliverBody(f: DeliverForm): { code?: string; photoId?: string } {
  const code = f.code.trim()
  return code ? { code } : { photoId: f.photoId }
}

export const maxPhotoBytes = 5 * 1024 * 1024
