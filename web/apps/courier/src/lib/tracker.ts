// Sends the courier's position while online: browser geolocation, at most one ping per
// interval (the server refuses pings closer than tracking.ping_interval with
// location_too_frequent, and says that interval when the courier goes online), with the
// permission state and the last fix kept for the screens.

export type TrackerState = 'idle' | 'locating' | 'ok' | 'denied' | 'unavailable' | 'unsupported'

export interface Fix {
  lat: number
  lng: number
  accuracy?: number
  at: string
}

export interface TrackerDeps {
  geolocation: Geolocation | undefined
  /** Sends one ping; resolves false when the server refused it. */
  send(fix: Fix): Promise<boolean>
  now(): number
  onState(state: TrackerState, lastSentAt?: number): void
  /** Every fix the device reports, sent or not: the courier's last known position. */
  onFix?(fix: Fix): void
  /** Timers for the heartbeat (tests pass fakes); the browser's by default. */
  every?(ms: number, fn: () => void): () => void
}

function every(ms: number, fn: () => void): () => void {
  const id = globalThis.setInterval(fn, ms)
  return () => globalThis.clearInterval(id)
}

/**
 * The time between pings until the server said its own (go-online's pingIntervalSeconds): a
 * courier walks ~7 m in 5 s, plenty for the hall's distances, and slower than any sane server
 * setting, so pings are not refused before the real interval is known.
 */
export const pingIntervalMs = 5000

/** How often the tracker checks whether a stationary phone owes a ping. */
const heartbeatMs = 1000

/** Bounds on the server's interval: a bad value must neither flood the server nor stall the map. */
const minIntervalMs = 1000
const maxIntervalMs = 60000

/**
 * The ping interval in ms from go-online's pingIntervalSeconds: the server's minimum (clamped
 * to 1 s..1 min), or the fallback when the answer did not say.
 */
export function intervalFromServer(seconds: number | null | undefined): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) return pingIntervalMs
  return Math.min(maxIntervalMs, Math.max(minIntervalMs, Math.ceil(seconds * 1000)))
}

/** Whether a new fix may be sent now, given when the last ping went out. */
export function dueForPing(lastSentAt: number | undefined, now: number, intervalMs = pingIntervalMs): boolean {
  return lastSentAt === undefined || now - lastSentAt >= intervalMs
}

export class Tracker {
  private watchId: number | null = null
  private lastSentAt: number | undefined
  private inFlight = false
  private stopBeat: (() => void) | null = null
  state: TrackerState = 'idle'

  constructor(
    private readonly deps: TrackerDeps,
    private intervalMs = pingIntervalMs,
  ) {}

  /** Paces the next pings (the server's interval, once known); a watch under way keeps going. */
  setInterval(ms: number): void {
    this.intervalMs = ms
  }

  get interval(): number {
    return this.intervalMs
  }

  start(): void {
    if (this.watchId !== null) return
    const geo = this.deps.geolocation
    if (!geo) {
      this.set('unsupported')
      return
    }
    this.set('locating')
    this.watchId = geo.watchPosition(
      (p) => void this.onFix(p),
      (e) => this.set(e.code === 1 ? 'denied' : 'unavailable'),
      { enableHighAccuracy: true, maximumAge: this.intervalMs, timeout: 20000 },
    )
    // A phone that does not move may report no new fix for minutes, and a courier waiting at a
    // pickup would then vanish from the live maps: when a ping is due and none went out, ask
    // for a fresh fix (a new timestamp; the server refuses one not newer than the last).
    this.stopBeat = (this.deps.every ?? every)(heartbeatMs, () => {
      if (this.inFlight || !dueForPing(this.lastSentAt, this.deps.now(), this.intervalMs)) return
      geo.getCurrentPosition(
        (p) => void this.onFix(p),
        () => {}, // the watch reports errors
        { enableHighAccuracy: true, maximumAge: 0, timeout: 20000 },
      )
    })
  }

  stop(): void {
    if (this.watchId !== null) this.deps.geolocation?.clearWatch(this.watchId)
    this.watchId = null
    this.stopBeat?.()
    this.stopBeat = null
    this.set('idle')
  }

  private async onFix(p: GeolocationPosition): Promise<void> {
    const now = this.deps.now()
    const fix: Fix = {
      lat: p.coords.latitude,
      lng: p.coords.longitude,
      accuracy: Number.isFinite(p.coords.accuracy) ? p.coords.accuracy : undefined,
      at: new Date(p.timestamp || now).toISOString(),
    }
    this.deps.onFix?.(fix)
    if (this.inFlight || !dueForPing(this.lastSentAt, now, this.intervalMs)) return
    this.inFlight = true
    this.lastSentAt = now
    try {
      const ok = await this.deps.send(fix)
      this.set(ok ? 'ok' : 'unavailable')
    } finally {
      this.inFlight = false
    }
  }

  private set(s: TrackerState): void {
    this.state = s
    this.deps.onState(s, this.lastSentAt)
  }
}
