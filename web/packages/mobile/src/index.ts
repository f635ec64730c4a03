// @paotui/mobile: pieces the phone apps (student, courier) share, built on Vant.
export { default as SmsLoginForm } from './SmsLoginForm.vue'
export { normalizePhone, validateLogin, safeRedirect, type LoginErrors } from './phone'
