// The wallet screen's rules: the top-up amount (the server's bounds, checked before asking),
// and waiting for Stripe's webhook to credit a card top-up.

/** The server's bounds on a student's top-up (topup-wallet), in 分: ¥1 to ¥5,000. */
export const minTopup = 100
export const maxTopup = 500_000

/** The amounts offered with one tap, in 分. */
export const topupPresets = [2000, 5000, 10_000, 20_000] as const

/** Why a typed amount cannot be topped up; a key of st.wallet.topupErrors. */
export type TopupError = 'required' | 'format' | 'min' | 'max'

/**
 * The top-up in 分 for what the student typed in yuan ("50", "12.5", "0.99"), or the reason
 * it cannot be sent. At most two decimals: 分 are the smallest unit there is.
 */
export function parseTopup(input: string): { amount: number; error?: undefined } | { amount?: undefined; error: TopupError } {
  const s = input.trim().replace(/^¥\s*/, '')
  if (s === '') return { error: 'required' }
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(s)) return { error: 'format' }
  const [whole = '0', frac = ''] = s.split('.')
  // Built from the digits, not Number(s) * 100, which is off by a 分 for amounts like 19.99.
  const amount = Number(whole) * 100 + Number(frac.padEnd(2, '0'))
  if (amount < minTopup) return { error: 'min' }
  if (amount > maxTopup) return { error: 'max' }
  return { amount }
}

/** The amount as the field shows it, in yuan without trailing zeros: 5000 -> "50", 1250 -> "12.5". */
export function fenToYuanInput(fen: number): string {
  const yuan = Math.trunc(fen / 100)
  const rest = fen % 100
  if (rest === 0) return String(yuan)
  return `${yuan}.${String(rest).padStart(2, '0').replace(/0$/, '')}`
}

export interface CreditWait {
  /** Reads the balance now; null when the read failed (tried again at the next turn). */
  read: () => Promise<number | null>
  /** The balance before the top-up. */
  before: number
  /** The amount topped up. */
  amount: number
  /** How many reads at most. */
  tries?: number
  /** Pause between reads, in ms. */
  intervalMs?: number
  sleep?: (ms: number) => Promise<void>
  /** Stops waiting (the student left the screen). */
  cancelled?: () => boolean
}

/**
 * Waits until the wallet shows a card top-up. Stripe tells the server by webhook, usually
 * within seconds; there is no stream of the wallet, so it is read a few times. True once the
 * balance has grown by the amount (other movements in between may hide it: then it is 'not
 * yet', and the history tells the rest); false when it gave up.
 */
export async function waitForCredit(w: CreditWait): Promise<boolean> {
  const tries = w.tries ?? 8
  const sleep = w.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  for (let i = 0; i < tries; i++) {
    await sleep((w.intervalMs ?? 2000) * (i < 3 ? 1 : 2))
    if (w.cancelled?.()) return false
    const balance = await w.read()
    if (balance !== null && balance >= w.before + w.amount) return true
  }
  return false
}
