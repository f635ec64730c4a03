package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// lockTTL bounds how long a crashed request can hold its key; longer than any request runs.
const lockTTL = time.Minute

// Store implements httpx.IdempotencyStore.
type Store struct {
	db  *store.DB
	rdb redis.UniversalClient
}

// New stores replies in each tenant's schema and locks in Redis.
func New(db *store.DB, rdb redis.UniversalClient) *Store { return &Store{db: db, rdb: rdb} }

var _ httpx.IdempotencyStore = (*Store)(nil)

func lockKey(t *tenancy.Tenant, principal, op, key string) string {
	return "paotui:t:" + strconv.FormatInt(t.ID, 10) + ":idem:" + principal + ":" + op + ":" + key
}

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Lock claims the key for the running request.
func (s *Store) Lock(ctx context.Context, t *tenancy.Tenant, principal, op, key string) (func(), bool, error) {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	k := lockKey(t, principal, op, key)
	ok, err := s.rdb.SetNX(ctx, k, token, lockTTL).Result()
	if err != nil || !ok {
		return func() {}, false, err
	}
	return func() { unlockScript.Run(context.WithoutCancel(ctx), s.rdb, []string{k}, token) }, true, nil
}

type reply struct {
	RequestHash []byte
	Status      int
	Response    []byte
}

// Load returns the stored reply, or nil.
func (s *Store) Load(ctx context.Context, t *tenancy.Tenant, principal, op, key string) (*httpx.SavedReply, error) {
	var r reply
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT request_hash, status, response FROM idempotency_keys WHERE principal = ? AND operation = ? AND key = ?`,
			principal, op, key).Take(&r).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &httpx.SavedReply{RequestHash: r.RequestHash, Status: r.Status, Body: r.Response}, nil
}

// Save keeps the first reply; a later save of the same key changes nothing.
func (s *Store) Save(ctx context.Context, t *tenancy.Tenant, principal, op, key string, r httpx.SavedReply) error {
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO idempotency_keys (key, operation, principal, request_hash, status, response)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, key, op, principal, r.RequestHash, r.Status, r.Body).Error
	})
}

// Prune deletes replies older than keep in one tenant (clients retry within minutes; a day
// is generous).
func (s *Store) Prune(ctx context.Context, t *tenancy.Tenant, keep time.Duration) (int64, error) {
	var n int64
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		res := tx.Exec(`DELETE FROM idempotency_keys WHERE created_at < ?`, time.Now().Add(-keep))
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// TaskPrune is the hourly fan-out task that forgets old replies in every active tenant.
const TaskPrune = "idempotency:prune"

// keep is how long a reply is replayed: clients retry within minutes; a day is generous.
const keep = 24 * time.Hour

// Tenants lists the tenants to prune.
type Tenants interface {
	Active(ctx context.Context) ([]tenancy.Tenant, error)
}

// HandlePrune deletes replies older than a day in every active tenant.
func (s *Store) HandlePrune(tenants Tenants) func(context.Context, *asynq.Task) error {
	return func(ctx context.Context, _ *asynq.Task) error {
		list, err := tenants.Active(ctx)
		if err != nil {
			return err
		}
		var errs []error
		for i := range list {
			if _, err := s.Prune(ctx, &list[i], keep); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", list[i].Slug, err))
			}
		}
		return errors.Join(errs...)
	}
}
