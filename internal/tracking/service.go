package tracking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/realtime"
	"github.com/paotui/paotui/internal/store"
)

// Service ingests courier positions and serves them to the hall, dispatch and staff. It is
// safe for concurrent use.
type Service struct {
	rdb redis.UniversalClient
	ns  realtime.Namespace // pub/sub channels are scoped like realtime's
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	minInterval time.Duration
	// Trail buffering and flushing; tests and the benchmark adjust them.
	bufferCap     int           // points kept per tenant while the flusher is behind
	batchSize     int           // points per INSERT
	batchesPerRun int           // batches one Flush writes per tenant before moving on
	parallel      int           // tenants flushed at once
	lease         time.Duration // how long a claimed batch is reserved for its flusher
	noTrail       bool          // benchmark baseline: pings write no trail buffer
}

// Options tunes a Service; the zero value is the production default.
type Options struct {
	// MinInterval is the shortest time between two accepted pings of a courier
	// (DefaultMinInterval when zero).
	MinInterval time.Duration
	Log         *slog.Logger
}

// New returns the service. rdb holds the live state (GEO set, last fixes, trail buffer) and
// carries the pub/sub events; db receives the trails.
func New(rdb redis.UniversalClient, db *store.DB, opts Options) *Service {
	s := &Service{rdb: rdb, ns: realtime.NamespaceOf(rdb), db: db, log: opts.Log, now: time.Now, minInterval: opts.MinInterval,
		bufferCap: 200_000, batchSize: 1000, batchesPerRun: 20, parallel: 4, lease: 30 * time.Second}
	if s.minInterval <= 0 {
		s.minInterval = DefaultMinInterval
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// PositionEvent is the live event type of an accepted ping (data: a Fix), published on the
// courier's position channel and the tenant's map channel (realtime.PositionChannel,
// realtime.MapChannel) in realtime's ephemeral format, so any hub serves it to SSE clients.
const PositionEvent = "position"

// The answers of pingScript.
const (
	pingAccepted    = 0
	pingOffline     = 1
	pingTooFrequent = 2
	pingTooFast     = 3
	pingNotNewer    = 4
)

// pingScript is the whole ping path in one Redis round trip; see the package documentation.
// Refusals write nothing. Numbers travel as decimal strings: Go formats floats exactly and
// times as integer microseconds, which a Lua double holds exactly.
//
// KEYS: 1 online set, 2 last fixes, 3 GEO set, 4 trail buffer, 5 pending tenants.
// ARGV: 1 courier id, 2 lng, 3 lat, 4 accuracy (0 = unknown), 5 fix time µs, 6 min interval
// µs, 7 max speed m/s, 8 max slack m, 9 last-fix value without its received time, 10 event
// message, 11 courier channel, 12 map channel, 13 trail entry ("" = none), 14 tenant id,
// 15 trail buffer cap.
var pingScript = redis.NewScript(`
local id = ARGV[1]
if redis.call('SISMEMBER', KEYS[1], id) == 0 then return {1} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lng, lat, acc, at = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local prev = redis.call('HGET', KEYS[2], id)
if prev then
	local plng, plat, pacc, pat, precv = string.match(prev, '^([^,]+),([^,]+),([^,]+),([^,]+),([^,]+)$')
	plng, plat, pacc, pat, precv = tonumber(plng), tonumber(plat), tonumber(pacc), tonumber(pat), tonumber(precv)
	if precv then
		local interval = tonumber(ARGV[6])
		local wait = interval - (now - precv)
		if interval > 0 and wait > 0 then
			-- Capped: a Redis clock that stepped back must not lock a courier out for longer.
			return {2, math.min(wait, interval)}
		end
		local dt = (at - pat) / 1000000
		if dt <= 0 then return {4} end
		local rad = math.pi / 180
		local sdlat = math.sin((lat - plat) * rad / 2)
		local sdlng = math.sin((lng - plng) * rad / 2)
		local a = sdlat * sdlat + math.cos(plat * rad) * math.cos(lat * rad) * sdlng * sdlng
		-- Haversine on the radius Redis uses for GEO distances, so this and GEOSEARCH agree.
		local d = 2 * 6372797.560856 * math.asin(math.min(1, math.sqrt(a)))
		local slack = math.min(pacc + acc, tonumber(ARGV[8]))
		if d - slack > tonumber(ARGV[7]) * dt then return {3} end
	end
end
redis.call('GEOADD', KEYS[3], ARGV[2], ARGV[3], id)
redis.call('HSET', KEYS[2], id, ARGV[9] .. ',' .. string.format('%d', now))
redis.call('PUBLISH', ARGV[11], ARGV[10])
redis.call('PUBLISH', ARGV[12], ARGV[10])
if ARGV[13] ~= '' then
	local n = redis.call('RPUSH', KEYS[4], ARGV[13])
	local cap = tonumber(ARGV[15])
	-- A flusher that is down must not let one tenant's buffer eat Redis: the oldest points go.
	if n > cap then redis.call('LTRIM', KEYS[4], n - cap, -1) end
	redis.call('SADD', KEYS[5], ARGV[14])
end
return {0}
`)

// Ping records courier courierID's position in tenant t. It refuses, writing nothing, with an
// *InvalidError (ErrInvalidLocation) for an unusable fix, ErrOffline when the courier is not
// online, a *TooFrequentError (ErrTooFrequent) within MinInterval of the courier's last
// accepted ping, and ErrImplausible when the fix implies a speed above MaxSpeed from the last
// fix or is not newer than it. It never touches PostgreSQL; see the package documentation.
func (s *Service) Ping(ctx context.Context, t *tenancy.Tenant, courierID string, p Ping) error {
	if t == nil {
		return errors.New("tracking: ping without a tenant")
	}
	if err := canonicalID(courierID); err != nil {
		return err
	}
	if err := p.validate(); err != nil {
		return err
	}
	now := s.now().UTC()
	at := now
	if p.At != nil && p.At.Sub(now).Abs() <= ClockSkew {
		at = p.At.UTC()
	}
	at = at.Truncate(time.Microsecond) // what PostgreSQL keeps, so the trail and Redis agree
	msg, err := realtime.EphemeralMessage(PositionEvent,
		Fix{CourierID: courierID, Lng: p.Lng, Lat: p.Lat, Accuracy: p.Accuracy, At: at})
	if err != nil {
		return fmt.Errorf("encode position event: %w", err)
	}
	lng, lat, acc := formatFloat(p.Lng), formatFloat(p.Lat), formatFloat(p.Accuracy)
	atUs := strconv.FormatInt(at.UnixMicro(), 10)
	entry := ""
	if !s.noTrail {
		entry = courierID + "," + atUs + "," + lng + "," + lat + "," + acc
	}
	tid := t.ID
	res, err := pingScript.Run(ctx, s.rdb,
		[]string{onlineKey(tid), lastKey(tid), geoKey(tid), trailKey(tid), pendingKey},
		courierID, lng, lat, acc, atUs, s.minInterval.Microseconds(), MaxSpeed, maxSlack,
		lng+","+lat+","+acc+","+atUs, msg, s.ns.Wire(realtime.PositionChannel(tid, courierID)), s.ns.Wire(realtime.MapChannel(tid)),
		entry, tid, s.bufferCap).Int64Slice()
	if err != nil {
		return fmt.Errorf("record position: %w", err)
	}
	if len(res) == 0 {
		return fmt.Errorf("record position: empty script reply")
	}
	switch res[0] {
	case pingAccepted:
		return nil
	case pingOffline:
		return ErrOffline
	case pingTooFrequent:
		wait := s.minInterval
		if len(res) > 1 {
			wait = time.Duration(res[1]) * time.Microsecond
		}
		return &TooFrequentError{Wait: wait}
	case pingTooFast:
		return fmt.Errorf("%w: faster than %.0f m/s since the last fix", ErrImplausible, MaxSpeed)
	case pingNotNewer:
		return fmt.Errorf("%w: not newer than the last fix", ErrImplausible)
	}
	return fmt.Errorf("record position: unexpected script reply %v", res)
}

// Position returns the courier's latest fix; ok is false when there is none or it is older
// than StaleAfter.
func (s *Service) Position(ctx context.Context, tid int64, courierID string) (Fix, bool, error) {
	v, err := s.rdb.HGet(ctx, lastKey(tid), courierID).Result()
	if errors.Is(err, redis.Nil) {
		return Fix{}, false, nil
	}
	if err != nil {
		return Fix{}, false, fmt.Errorf("read position: %w", err)
	}
	f, ok := parseLast(courierID, v)
	if !ok || s.stale(f) {
		return Fix{}, false, nil
	}
	return f, true, nil
}

// maxIDs bounds one Positions call (one Redis command).
const maxIDs = 10_000

// Positions returns the fresh fixes of the given couriers in one round trip, keyed by courier
// id; couriers with no fresh fix are absent. The map is never nil.
func (s *Service) Positions(ctx context.Context, tid int64, ids []string) (map[string]Fix, error) {
	out := map[string]Fix{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > maxIDs {
		return nil, fmt.Errorf("%w: at most %d couriers at once, got %d", ErrInvalidQuery, maxIDs, len(ids))
	}
	vals, err := s.rdb.HMGet(ctx, lastKey(tid), ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("read positions: %w", err)
	}
	for i, v := range vals {
		str, isStr := v.(string)
		if !isStr {
			continue
		}
		if f, ok := parseLast(ids[i], str); ok && !s.stale(f) {
			out[ids[i]] = f
		}
	}
	return out, nil
}

// nearbyScript finds online couriers with a fresh fix within a radius, nearest first, and
// drops the entries of couriers whose fix went stale (a courier whose app died never calls
// Forget), so the GEO set only holds couriers seen in the last StaleAfter.
//
// KEYS: 1 GEO set, 2 last fixes, 3 online set. ARGV: 1 lng, 2 lat, 3 radius m, 4 limit,
// 5 stale cutoff µs. Returns id, distance, last-fix value triples.
var nearbyScript = redis.NewScript(`
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm', 'ASC', 'WITHDIST')
local out, n, limit, cutoff = {}, 0, tonumber(ARGV[4]), tonumber(ARGV[5])
for _, m in ipairs(found) do
	local id, dist = m[1], m[2]
	local v = redis.call('HGET', KEYS[2], id)
	local at = v and tonumber(string.match(v, '^[^,]*,[^,]*,[^,]*,([^,]*)'))
	if not at or at < cutoff then
		redis.call('ZREM', KEYS[1], id)
		if v then redis.call('HDEL', KEYS[2], id) end
	elseif redis.call('SISMEMBER', KEYS[3], id) == 1 then
		out[#out + 1] = id
		out[#out + 1] = dist
		out[#out + 1] = v
		n = n + 1
		if n >= limit then break end
	end
end
return out
`)

// Limits of Nearby.
const (
	MaxRadius      = 50_000.0 // metres: a campus and its surroundings
	MaxNearbyLimit = 1000
)

// Nearby returns up to limit online couriers with a fresh fix within radiusM metres of
// center, nearest first. Couriers that are not in the online set are left out even with a
// fresh fix: the hall and dispatch must never offer work to them. ErrInvalidLocation and
// ErrInvalidQuery refuse an unusable centre, radius or limit.
func (s *Service) Nearby(ctx context.Context, tid int64, center Point, radiusM float64, limit int) ([]NearbyCourier, error) {
	if err := validPoint(center); err != nil {
		return nil, err
	}
	if !finite(radiusM) || radiusM <= 0 || radiusM > MaxRadius {
		return nil, fmt.Errorf("%w: radius must be above 0 and at most %.0f m", ErrInvalidQuery, MaxRadius)
	}
	if limit < 1 || limit > MaxNearbyLimit {
		return nil, fmt.Errorf("%w: limit must be 1..%d", ErrInvalidQuery, MaxNearbyLimit)
	}
	cutoff := s.now().Add(-StaleAfter).UnixMicro()
	raw, err := nearbyScript.Run(ctx, s.rdb, []string{geoKey(tid), lastKey(tid), onlineKey(tid)},
		formatFloat(center.Lng), formatFloat(center.Lat), formatFloat(radiusM), limit, cutoff).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("find nearby couriers: %w", err)
	}
	out := make([]NearbyCourier, 0, len(raw)/3)
	for i := 0; i+2 < len(raw); i += 3 {
		f, ok := parseLast(raw[i], raw[i+2])
		d, err := strconv.ParseFloat(raw[i+1], 64)
		if !ok || err != nil {
			continue
		}
		out = append(out, NearbyCourier{Fix: f, DistanceM: d})
	}
	return out, nil
}

// Forget removes the courier's live position (on going offline), in one round trip. Points
// already in the trail buffer are still written.
func (s *Service) Forget(ctx context.Context, tid int64, courierID string) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, geoKey(tid), courierID)
		p.HDel(ctx, lastKey(tid), courierID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget position: %w", err)
	}
	return nil
}

func (s *Service) stale(f Fix) bool { return s.now().Sub(f.At) > StaleAfter }

// parseLast reads a last-fix value: "lng,lat,accuracy,fixTimeµs,receivedµs".
func parseLast(courierID, v string) (Fix, bool) {
	parts := strings.Split(v, ",")
	if len(parts) < 4 {
		return Fix{}, false
	}
	lng, err1 := strconv.ParseFloat(parts[0], 64)
	lat, err2 := strconv.ParseFloat(parts[1], 64)
	acc, err3 := strconv.ParseFloat(parts[2], 64)
	at, err4 := strconv.ParseInt(parts[3], 10, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return Fix{}, false
	}
	return Fix{CourierID: courierID, Lng: lng, Lat: lat, Accuracy: acc, At: time.UnixMicro(at).UTC()}, true
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// canonicalID refuses anything but a lower-case hyphenated UUID: the id names Redis members,
// channels and trail rows, and two spellings of one id would split a courier in two.
func canonicalID(id string) error {
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return fmt.Errorf("%w: courier id %q is not a canonical UUID", ErrInvalidQuery, id)
	}
	return nil
}
