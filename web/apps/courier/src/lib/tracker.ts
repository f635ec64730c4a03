// Sends the courier's position while online: browser geolocation, at most one ping per
// interval (the server refuses pings closer than tracking.ping_interval with
// location_too_frequent), with the permission state kept for the screen.

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
}

/**
 * The time between pings. The server accepts one per 2 s; a courier walks ~7 m in 5 s, which
 * is plenty for the hall's distances and spares the phone's battery and data.
 */
export const pingIntervalMs = 5000

/** Whether a new fix may be sent now, given when the last ping went out. */
export function dueForPing(lastSentAt: number | undefined, now: number, intervalMs = pingIntervalMs): boolean {
  return lastSentAt === undefined || now - lastSentAt >= intervalMs
}

export class Tracker {
  private watchId: number | null = null
  private lastSentAt: number | undefined
  private inFlight = false
  state: TrackerState = 'idle'

  constructor(
    private readonly deps: TrackerDeps,
    private readonly intervalMs = pingIntervalMs,
  ) {}

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
  }

  stop(): void {
    if (this.watchId !== null) this.deps.geolocation?.clearWatch(this.watchId)
    this.watchId = null
    this.set('idle')
  }

  private async onFix(p: GeolocationPosition): Promise<void> {
    const now = this.deps.now()
    if (this.inFlight || !dueForPing(this.lastSentAt, now, this.intervalMs)) return
    this.inFlight = true
    this.lastSentAt = now
    try {
      const ok = await this.deps.send({
        lat: p.coords.latitude,
        lng: p.coords.longitude,
        accuracy: Number.isFinite(p.coords.accuracy) ? p.coords.accuracy : undefined,
        at: new Date(p.timestamp || now).toISOString(),
      })
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
