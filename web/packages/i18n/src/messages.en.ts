import type { zhCN } from './messages.zh-CN'
import { problemsEn } from './problems.en'

/** The shape every locale's messages have: the Chinese table's keys, with string texts. */
export type Messages = Widen<typeof zhCN>
type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> }

// Screen texts in English; the type keeps the keys equal to messages.zh-CN.ts.
export const en: Messages = {
  locale: {
    label: 'Language',
    'zh-CN': '简体中文',
    en: 'English',
  },
  smsLogin: {
    phone: 'Phone',
    phonePlaceholder: '11-digit mobile number',
    code: 'Code',
    codePlaceholder: 'SMS code',
    send: 'Send code',
    resend: 'Resend in {s}s',
    sent: 'Code sent',
    submit: 'Sign in',
    badPhone: 'Enter an 11-digit mobile number',
    badCode: 'Enter the code from the SMS',
  },
  map: {
    loading: 'Loading the map…',
    failed: 'The map could not load; choose from the list of places',
    label: 'Map',
    noTiles: 'No map tiles configured: showing relative positions only',
    tilesFailed: 'Map tiles failed to load: showing relative positions only',
    pickHint: 'Tap the map to choose a spot',
    drawHint: 'Click the map to add corners ({n} so far)',
    undo: 'Undo',
    clear: 'Clear',
    kind: { pickup: 'Pickup', dropoff: 'Drop-off', courier: 'Courier', place: 'Place', me: 'You' },
  },
  common: {
    loading: 'Loading…',
    empty: 'Nothing here yet',
    retry: 'Retry',
    requestId: 'Request id: {id}',
    signIn: 'Sign in',
    signOut: 'Sign out',
    comingSoon: 'Coming soon',
  },
  paused: {
    title: '{name} has paused its service',
    body: 'The service is paused for now. Your data is safe and nothing was changed.',
    billing: 'The service is paused for an unpaid bill. It resumes as soon as the owner pays.',
    platform: 'The service was paused by the platform. Contact the service for details.',
    deletion: 'This service is closing.',
    contact: 'Service phone: {phone}',
    billingAction: 'Go to billing',
  },
  apps: {
    site: {
      title: 'Paotui · errands for campus teams',
      tagline: 'Open your campus errand service in minutes: students order, couriers deliver, you run it.',
      plans: 'Plans',
      perMonth: '{price} / month',
      signup: 'Start free',
      noPlans: 'No plans on offer yet',
    },
    student: {
      title: 'Campus errands',
      chooseTask: 'What can we do for you?',
      noTasks: 'The service has not opened any errands yet',
      from: 'from {price}',
    },
    courier: {
      title: 'Courier',
      intro: 'Go online, take orders, earn as you deliver.',
    },
    admin: {
      title: 'Admin',
      dashboard: 'Dashboard',
      trend: 'Recent orders',
      noData: 'No data yet',
    },
    platform: {
      title: 'Platform',
      tenants: 'Tenants',
    },
  },
  problems: problemsEn,
}
