package tracking

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/settings"
)

// Tenants finds a tenant by registry id; tenancy.Registry implements it. An error wrapping
// tenancy.ErrNotFound means the tenant is gone.
type Tenants interface {
	ByID(ctx context.Context, id int64) (*tenancy.Tenant, error)
}

// claimScript hands a flusher the batch to write: the batch a previous flusher claimed and
// never acknowledged (it failed or died), else up to n points moved from the buffer. It
// answers nil while another flusher's lease on the tenant lasts, and an empty list, after
// taking the tenant off the pending set, when there is nothing to write.
//
// KEYS: 1 buffer, 2 claimed batch, 3 lease, 4 pending tenants. ARGV: 1 n, 2 token,
// 3 lease ms, 4 tenant id.
var claimScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local items = redis.call('LRANGE', KEYS[2], 0, -1)
if #items == 0 then
	items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
	if #items == 0 then
		redis.call('SREM', KEYS[4], ARGV[4])
		return {}
	end
	redis.call('LTRIM', KEYS[1], #items, -1)
	redis.call('RPUSH', KEYS[2], unpack(items))
end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
return items
`)

// ackScript drops a written batch if the lease is still the caller's. A flusher whose lease
// expired mid-write leaves the batch to the one that took over; writing it twice is harmless.
//
// KEYS: 1 buffer, 2 claimed batch, 3 lease, 4 pending tenants. ARGV: 1 token, 2 tenant id.
var ackScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return 1
`)

// releaseScript gives up a lease after a failed write, keeping the batch for the next flush.
//
// KEYS: 1 lease. ARGV: 1 token.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Flush writes the buffered points of every tenant with pending points to courier_trail and
// returns how many rows it stored. Each tenant gets up to batchesPerRun batches per call, so a
// busy tenant cannot starve the others; what is left waits for the next call. A tenant whose
// write fails keeps its batch (see the package documentation) and does not stop the others;
// the failures are returned joined. Concurrent calls, from this or other processes, are safe:
// a lease per tenant keeps them off each other's batches.
func (s *Service) Flush(ctx context.Context, tenants Tenants) (int, error) {
	members, err := s.rdb.SMembers(ctx, pendingKey).Result()
	if err != nil {
		return 0, fmt.Errorf("list tenants with buffered points: %w", err)
	}
	var stored atomic.Int64
	errs := make([]error, len(members))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallel)
	for i, m := range members {
		tid, err := strconv.ParseInt(m, 10, 64)
		if err != nil || tid <= 0 {
			s.rdb.SRem(ctx, pendingKey, m)
			continue
		}
		g.Go(func() error {
			n, err := s.flushTenant(gctx, tenants, tid)
			stored.Add(int64(n))
			if err != nil {
				errs[i] = fmt.Errorf("tenant %d: %w", tid, err)
			}
			return nil // one tenant's failure must not cancel the others
		})
	}
	_ = g.Wait()
	return int(stored.Load()), errors.Join(errs...)
}

func (s *Service) flushTenant(ctx context.Context, tenants Tenants, tid int64) (int, error) {
	t, err := tenants.ByID(ctx, tid)
	if errors.Is(err, tenancy.ErrNotFound) || err == nil && t.Status == tenancy.StatusDeleted {
		return 0, s.discard(ctx, tid)
	}
	if err != nil {
		return 0, fmt.Errorf("load tenant: %w", err)
	}
	stored := 0
	for range s.batchesPerRun {
		n, more, err := s.flushBatch(ctx, t)
		stored += n
		if err != nil || !more {
			return stored, err
		}
	}
	return stored, nil
}

// flushBatch claims, writes and acknowledges one batch. more is false when the tenant had
// nothing to write or another flusher holds it.
func (s *Service) flushBatch(ctx context.Context, t *tenancy.Tenant) (stored int, more bool, err error) {
	tid := t.ID
	token := newToken()
	keys := []string{trailKey(tid), claimedKey(tid), leaseKey(tid), pendingKey}
	items, err := claimScript.Run(ctx, s.rdb, keys, s.batchSize, token, s.lease.Milliseconds(), tid).StringSlice()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil // another flusher is on this tenant
	}
	if err != nil {
		return 0, false, fmt.Errorf("claim trail batch: %w", err)
	}
	if len(items) == 0 {
		return 0, false, nil
	}
	batch := s.parseBatch(tid, items)
	// The write must end well before the lease does, so that a slow database does not let a
	// second flusher write the same batch at the same time.
	wctx, cancel := context.WithTimeout(ctx, s.lease*2/3)
	n, err := s.write(wctx, t, batch)
	cancel()
	if err != nil {
		// The batch stays claimed; releasing the lease lets the next flush retry it at once.
		if rerr := releaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{leaseKey(tid)}, token).Err(); rerr != nil {
			s.log.Warn("tracking: release trail lease", "tenant", tid, "err", rerr)
		}
		return 0, false, fmt.Errorf("write %d trail points: %w", len(batch.at), err)
	}
	acked, err := ackScript.Run(context.WithoutCancel(ctx), s.rdb, keys, token, tid).Int()
	if err != nil {
		// Written but still claimed: the next flush writes it again, which the unique index
		// turns into a no-op once the lease expires.
		return n, false, fmt.Errorf("acknowledge trail batch: %w", err)
	}
	if acked == 0 {
		s.log.Warn("tracking: trail lease expired during the write; the batch is left to its new flusher", "tenant", tid)
	}
	return n, true, nil
}

// discard drops the buffers of a tenant that no longer exists.
func (s *Service) discard(ctx context.Context, tid int64) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, trailKey(tid), claimedKey(tid), leaseKey(tid))
		p.SRem(ctx, pendingKey, strconv.FormatInt(tid, 10))
		return nil
	})
	return err
}

// pointBatch is a batch in columns, as unnest wants it.
type pointBatch struct {
	courier []string
	at      []time.Time
	lng     []float64
	lat     []float64
	acc     []*float64
}

// parseBatch reads buffer entries "courier,fixTimeµs,lng,lat,accuracy". An entry that does not
// parse is dropped (and logged) rather than failing its batch forever; Ping only writes valid
// ones, so this is a guard against other writers, not a path.
func (s *Service) parseBatch(tid int64, items []string) pointBatch {
	var b pointBatch
	for _, it := range items {
		f := strings.Split(it, ",")
		if len(f) != 5 {
			s.log.Warn("tracking: dropped a malformed trail entry", "tenant", tid)
			continue
		}
		_, errID := uuid.Parse(f[0])
		us, err1 := strconv.ParseInt(f[1], 10, 64)
		lng, err2 := strconv.ParseFloat(f[2], 64)
		lat, err3 := strconv.ParseFloat(f[3], 64)
		acc, err4 := strconv.ParseFloat(f[4], 64)
		if errors.Join(errID, err1, err2, err3, err4) != nil || (Ping{Lng: lng, Lat: lat, Accuracy: acc}).validate() != nil {
			s.log.Warn("tracking: dropped a malformed trail entry", "tenant", tid)
			continue
		}
		b.courier = append(b.courier, f[0])
		b.at = append(b.at, time.UnixMicro(us).UTC())
		b.lng = append(b.lng, lng)
		b.lat = append(b.lat, lat)
		if acc > 0 {
			b.acc = append(b.acc, &acc)
		} else {
			b.acc = append(b.acc, nil)
		}
	}
	return b
}

// insertTrail stores a batch against its couriers' orders that are being carried right now,
// in one statement whatever the batch size. ON CONFLICT makes a batch written twice (after a
// lost acknowledgement) add nothing.
const insertTrail = `INSERT INTO courier_trail (courier_id, order_id, at, lng, lat, accuracy)
SELECT p.courier_id, o.id, p.at, p.lng, p.lat, p.accuracy
FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[], $4::float8[], $5::real[]) AS p (courier_id, at, lng, lat, accuracy)
JOIN orders o ON o.courier_id = p.courier_id AND o.status IN ('accepted', 'picked_up')
ON CONFLICT (order_id, at) DO NOTHING`

// write stores batch in t's schema unless the tenant turned trails off, in which case the
// points are dropped: a tenant that keeps no trails keeps none, also of what was buffered.
func (s *Service) write(ctx context.Context, t *tenancy.Tenant, b pointBatch) (int, error) {
	if len(b.at) == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		rules, err := settings.Load(tx)
		if err != nil {
			return fmt.Errorf("load settings: %w", err)
		}
		if !rules.Trails {
			return nil
		}
		n, err = execArrays(ctx, tx, insertTrail, b.courier, b.at, b.lng, b.lat, b.acc)
		return err
	})
	return int(n), err
}

// execArrays runs a statement whose parameters are Go slices bound as PostgreSQL arrays. It
// goes to the transaction's connection directly: gorm would expand each slice into a
// parenthesised list, which unnest cannot take.
func execArrays(ctx context.Context, tx *gorm.DB, sql string, args ...any) (int64, error) {
	res, err := tx.Statement.ConnPool.ExecContext(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MaxTrailPage bounds one page of a trail; an errand's whole trail at one point every two
// seconds is about 1,800 points an hour.
const MaxTrailPage = 5000

// Trail returns an order's whole stored trail in time order (empty, never nil, when there is
// none). ErrOrderNotFound when t has no such order.
func (s *Service) Trail(ctx context.Context, t *tenancy.Tenant, orderID string) ([]TrailPoint, error) {
	out := []TrailPoint{}
	var after *time.Time
	for {
		page, more, err := s.TrailPage(ctx, t, orderID, after, MaxTrailPage)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if !more {
			return out, nil
		}
		after = &page[len(page)-1].At
	}
}

// TrailPage returns up to limit points of an order's trail after the given time (nil: from the
// start), in time order, and whether more follow. ErrOrderNotFound when t has no such order;
// ErrInvalidQuery for a limit outside 1..MaxTrailPage.
func (s *Service) TrailPage(ctx context.Context, t *tenancy.Tenant, orderID string, after *time.Time, limit int) ([]TrailPoint, bool, error) {
	if limit < 1 || limit > MaxTrailPage {
		return nil, false, fmt.Errorf("%w: limit must be 1..%d", ErrInvalidQuery, MaxTrailPage)
	}
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, false, ErrOrderNotFound
	}
	var rows []struct {
		CourierID string
		At        time.Time
		Lng, Lat  float64
		Accuracy  *float64
	}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var exists bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM orders WHERE id = ?)`, orderID).Scan(&exists).Error; err != nil {
			return err
		}
		if !exists {
			return ErrOrderNotFound
		}
		q := tx.Table("courier_trail").Select("courier_id, at, lng, lat, accuracy").Where("order_id = ?", orderID)
		if after != nil {
			q = q.Where("at > ?", after.UTC())
		}
		return q.Order("at").Limit(limit + 1).Scan(&rows).Error
	})
	if err != nil {
		return nil, false, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]TrailPoint, len(rows))
	for i, r := range rows {
		out[i] = TrailPoint{CourierID: r.CourierID, At: r.At.UTC(), Lng: r.Lng, Lat: r.Lat}
		if r.Accuracy != nil {
			out[i].Accuracy = *r.Accuracy
		}
	}
	return out, more, nil
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
