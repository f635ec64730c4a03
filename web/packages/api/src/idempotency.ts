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
}
