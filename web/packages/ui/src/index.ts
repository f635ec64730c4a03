// @paotui/ui: small pieces every surface shares, free of any UI kit: the problem alert, the
// mapping of a problem's field errors onto a form, the paused-service page, the language switch
// and the start-up of an app.
export { default as ProblemAlert } from './ProblemAlert.vue'
export { default as PausedPage } from './PausedPage.vue'
export { default as LocaleSwitch } from './LocaleSwitch.vue'
export { fieldErrors, type FieldErrors } from './fieldErrors'
export { mountApp, type MessageBundle, type MountOptions } from './mount'
