package authz

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/casbin/casbin/v2/util"
	"github.com/redis/go-redis/v9"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// policy is one tenant's loaded enforcer. It is never changed after loading: a role change
// replaces it, so the enforcer's locks only ever see readers.
type policy struct {
	enf     *casbin.SyncedEnforcer
	domain  string
	expires time.Time
}

// policy returns t's enforcer, loading it when it is missing or older than the TTL. Concurrent
// callers for one tenant share a single load.
func (a *Authorizer) policy(ctx context.Context, t *tenancy.Tenant) (*policy, error) {
	if t == nil {
		return nil, errNoTenant
	}
	a.mu.RLock()
	p, ok := a.cache[t.ID]
	v := a.versionLocked(t.ID)
	a.mu.RUnlock()
	if ok && time.Now().Before(p.expires) {
		return p, nil
	}
	key := strconv.FormatInt(t.ID, 10) + "@" + strconv.FormatUint(v, 10)
	ch := a.loads.DoChan(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		start := time.Now()
		enf, err := newEnforcer(a.modelText, &tenantAdapter{
			ctx: lctx, db: a.db, tenant: t, builtin: a.builtin, log: a.log,
		})
		if err != nil {
			return nil, fmt.Errorf("load policy of %s: %w", t.Domain(), err)
		}
		p := &policy{enf: enf, domain: t.Domain(), expires: time.Now().Add(a.ttl)}
		a.mu.Lock()
		if a.versionLocked(t.ID) == v {
			a.cache[t.ID] = p
		}
		a.mu.Unlock()
		a.log.Debug("authz: policy loaded", "tenant", t.ID, "took", time.Since(start))
		return p, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*policy), nil
	}
}

// newEnforcer builds an enforcer for modelText and, if ad is not nil, loads its policy.
func newEnforcer(modelText string, ad persist.Adapter) (*casbin.SyncedEnforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, err
	}
	enf, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, err
	}
	// Match g domains with keyMatch, so "*" (template) role links apply in every tenant and
	// GetImplicitPermissionsForUser includes the "*" template rules. casbin v2 adds this by
	// itself only when the matcher text contains exactly "keyMatch(r.dom, p.dom)"; saying it
	// here keeps it from depending on how the matcher is spelled.
	enf.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	if ad == nil {
		return enf, nil
	}
	enf.SetAdapter(ad)
	if err := enf.LoadPolicy(); err != nil {
		return nil, err
	}
	return enf, nil
}

// Invalidate drops t's enforcer in this process and tells the other replicas to drop theirs.
// Call it after the transaction that changed t's roles has committed. If Redis cannot be
// reached the error is returned, and other replicas catch up when their cached enforcer
// expires (at most five minutes).
func (a *Authorizer) Invalidate(ctx context.Context, t *tenancy.Tenant) error {
	if t == nil {
		return errNoTenant
	}
	a.drop(t.ID)
	if err := a.rdb.Publish(ctx, a.channel, strconv.FormatInt(t.ID, 10)).Err(); err != nil {
		return fmt.Errorf("publish authz invalidation of %s: %w", t.Domain(), err)
	}
	return nil
}

// Run listens for invalidations from other replicas (and this one) until ctx is done, and
// drops expired enforcers of tenants nobody asks about any more. Call it once, in a goroutine.
//
// Every (re)subscription drops all cached enforcers: go-redis resubscribes by itself after a
// lost connection, and messages published meanwhile are gone.
func (a *Authorizer) Run(ctx context.Context) {
	sub := a.rdb.Subscribe(ctx, a.channel)
	defer sub.Close()
	msgs := sub.ChannelWithSubscriptions()
	sweep := time.NewTicker(a.ttl)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-sweep.C:
			a.sweep(now)
		case m, ok := <-msgs:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind != "subscribe" {
					continue
				}
				a.dropAll()
				a.readyOnce.Do(func() { close(a.ready) })
				a.log.Debug("authz: subscribed to invalidations; cache cleared", "channel", m.Channel)
			case *redis.Message:
				id, err := strconv.ParseInt(m.Payload, 10, 64)
				if err != nil {
					a.log.Warn("authz: ignoring invalidation message", "payload", m.Payload)
					continue
				}
				a.drop(id)
			}
		}
	}
}

func (a *Authorizer) versionLocked(id int64) uint64 { return max(a.gens[id], a.floor) }

func (a *Authorizer) drop(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	a.gens[id] = a.seq
	delete(a.cache, id)
}

func (a *Authorizer) dropAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	a.floor = a.seq
	clear(a.gens) // every tenant's version is now floor
	clear(a.cache)
}

func (a *Authorizer) sweep(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, p := range a.cache {
		if !now.Before(p.expires) {
			delete(a.cache, id)
		}
	}
}
