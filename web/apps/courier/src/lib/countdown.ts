// Offers must be answered before expiresAt; the countdown uses the server's clock offset so a
// phone whose clock is wrong does not show time the courier does not have.

/** Whole seconds left until expiresAt (never negative). */
export function secondsLeft(expiresAt: string, nowMs: number, skewMs = 0): number {
  const end = Date.parse(expiresAt)
  if (Number.isNaN(end)) return 0
  return Math.max(0, Math.ceil((end - (nowMs + skewMs)) / 1000))
}

/**
 * The offset to add to the local clock to get the server's, from a response's Date header
 * (second precision, so offsets under 2 s are ignored as noise).
 */
export function clockSkew(dateHeader: string | null, localMs: number): number {
  if (!dateHeader) return 0
  const server = Date.parse(dateHeader)
  if (Number.isNaN(server)) return 0
  const skew = server - localMs
  return Math.abs(skew) < 2000 ? 0 : skew
}
