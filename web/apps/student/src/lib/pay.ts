import type { Problem } from '@paotui/api'

/**
 * Whether a payment's Idempotency-Key has been spent. The server replays any answer below 500
 * for the same key, so after a refusal (say, too little in the wallet) a retry with that key
 * would get the same refusal even once the student topped up: a new attempt needs a new key.
 * Without an answer (network error, 5xx) the first attempt may have gone through: keep the key
 * so a retry cannot charge twice.
 */
export function keySpent(error: Problem | undefined): boolean {
  if (!error) return true
  return error.status > 0 && error.status < 500 && error.code !== 'network_error'
}
