import type { Problem } from './problem'

/** The header the API reads to replay a money-moving request instead of repeating it. */
export const idempotencyHeader = 'Idempotency-Key'

/** A fresh key: a random UUID. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID()
}

/**
 * One key per intended action (one payment, one top-up, one refund). Keep the object for as
 * long as the user is retrying the same action, so a retry after a timeout or a double tap
 * replays the first answer instead of charging twice; call renew() once it succeeded or the
 * user changed what they are sending (the server refuses a reused key with a different body).
 *
 *   const pay = new IdempotencyKey()
 *   await api.POST('/api/v1/orders/{orderId}/pay', { params: { path, header: pay.header() }, body })
 */
export class IdempotencyKey {
  private key = newIdempotencyKey()

  get value(): string {
    return this.key
  }

  /** The header parameter of an idempotent operation. */
  header(): { 'Idempotency-Key': string } {
    return { [idempotencyHeader]: this.key } as { 'Idempotency-Key': string }
  }

  /** Starts a new action with a new key. */
  renew(): void {
    this.key = newIdempotencyKey()
  }

  /** After an answer: renews the key once it is spent (see keySpent), keeps it otherwise. */
  settle(error: Problem | undefined): void {
    if (keySpent(error)) this.renew()
  }
}

/**
 * Whether an Idempotency-Key has been spent by the answer it got. The server replays any
 * answer below 500 for the same key, so after a refusal (say, too little in the wallet) a retry
 * with that key would get the same refusal even once the student topped up: a new attempt
 * needs a new key. Without an answer (network error, 5xx) the first attempt may have gone
 * through: keep the key so a retry cannot charge twice.
 */
export function keySpent(error: Problem | undefined): boolean {
  if (!error) return true
  return error.status > 0 && error.status < 500 && error.code !== 'network_error'
}
