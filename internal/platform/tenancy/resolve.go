package tenancy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// HostKind is what a request's Host names.
type HostKind int

const (
	KindUnknown  HostKind = iota
	KindBase              // the base domain: landing and signup
	KindPlatform          // admin.<base>: the super-admin panel
	KindTenant            // <slug>.<base> or a verified custom domain
)

// Host is a resolved Host header.
type Host struct {
	Kind   HostKind
	Tenant *Tenant // set for KindTenant
}

// ErrUnknownHost is returned for a host that names no tenant or platform surface.
var ErrUnknownHost = errors.New("no tenant at this host")

// PlatformSubdomain is the platform panel's subdomain of the base domain.
const PlatformSubdomain = "admin"

// invalidateChannel carries tenant ids whose cached entries every replica must drop.
const invalidateChannel = "paotui:tenancy:invalidate"

// Resolver maps a Host header to a tenant. Entries are cached in-process and dropped on every
// replica when a tenant changes (Invalidate publishes through Redis); the TTL only bounds
// staleness if a message is lost.
type Resolver struct {
	reg        *Registry
	rdb        redis.UniversalClient
	baseDomain string
	ttl        time.Duration
	log        *slog.Logger

	mu    sync.RWMutex
	cache map[string]cacheEntry

	readyOnce sync.Once
	ready     chan struct{}
}

type cacheEntry struct {
	tenant  *Tenant // nil: known unknown host (short negative entry)
	expires time.Time
}

// negativeTTL keeps floods of requests to unknown hosts off the database, briefly, so a new
// tenant is reachable within seconds.
const negativeTTL = 3 * time.Second

// NewResolver resolves hosts under baseDomain.
func NewResolver(reg *Registry, rdb redis.UniversalClient, baseDomain string, ttl time.Duration, log *slog.Logger) *Resolver {
	return &Resolver{reg: reg, rdb: rdb, baseDomain: strings.ToLower(baseDomain), ttl: ttl, log: log,
		cache: map[string]cacheEntry{}, ready: make(chan struct{})}
}

// Resolve classifies host (port ignored, case-insensitive).
func (r *Resolver) Resolve(ctx context.Context, host string) (Host, error) {
	kind, name, err := r.classify(host)
	if err != nil || kind != KindTenant {
		return Host{Kind: kind}, err
	}
	t, err := r.lookup(ctx, name)
	if err != nil {
		return Host{}, err
	}
	return Host{Kind: KindTenant, Tenant: t}, nil
}

// classify decides from the name alone what host is: the base or platform host, or a tenant
// candidate (a valid slug under the base domain, or any other name as a custom domain) whose
// normalized name is returned for lookup.
func (r *Resolver) classify(host string) (HostKind, string, error) {
	h := normalizeHost(host)
	switch {
	case h == "":
		return KindUnknown, "", ErrUnknownHost
	case h == r.baseDomain:
		return KindBase, "", nil
	case h == PlatformSubdomain+"."+r.baseDomain:
		return KindPlatform, "", nil
	}
	if sub, ok := strings.CutSuffix(h, "."+r.baseDomain); ok {
		if strings.Contains(sub, ".") || IsReserved(sub) || ValidateSlug(sub, nil) != nil {
			return KindUnknown, "", ErrUnknownHost
		}
	}
	return KindTenant, h, nil
}

// BySlug resolves a tenant by slug through the same cache (X-Paotui-Tenant header).
func (r *Resolver) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	return r.lookup(ctx, strings.ToLower(slug)+"."+r.baseDomain)
}

func (r *Resolver) lookup(ctx context.Context, h string) (*Tenant, error) {
	now := time.Now()
	r.mu.RLock()
	e, ok := r.cache[h]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) {
		if e.tenant == nil {
			return nil, ErrUnknownHost
		}
		return e.tenant, nil
	}
	var (
		t   *Tenant
		err error
	)
	if sub, ok := strings.CutSuffix(h, "."+r.baseDomain); ok {
		t, err = r.reg.BySlug(ctx, sub)
	} else {
		t, err = r.reg.ByDomain(ctx, h)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		r.store(h, nil, now.Add(negativeTTL))
		return nil, ErrUnknownHost
	case err != nil:
		return nil, err
	}
	r.store(h, t, now.Add(r.ttl))
	return t, nil
}

func (r *Resolver) store(h string, t *Tenant, exp time.Time) {
	r.mu.Lock()
	r.cache[h] = cacheEntry{tenant: t, expires: exp}
	r.mu.Unlock()
}

// Invalidate drops tenant id's entries here and on every other replica.
func (r *Resolver) Invalidate(ctx context.Context, id int64) error {
	r.drop(id)
	return r.rdb.Publish(ctx, invalidateChannel, strconv.FormatInt(id, 10)).Err()
}

// drop removes the tenant's entries and all negative entries (a new tenant or domain may
// now exist at one of those hosts).
func (r *Resolver) drop(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for h, e := range r.cache {
		if e.tenant == nil || e.tenant.ID == id {
			delete(r.cache, h)
		}
	}
}

// Run listens for invalidations from other replicas until ctx ends. A lost subscription
// flushes the whole cache when it comes back, since messages may have been missed.
func (r *Resolver) Run(ctx context.Context) {
	for ctx.Err() == nil {
		sub := r.rdb.Subscribe(ctx, invalidateChannel)
		if _, err := sub.Receive(ctx); err != nil {
			_ = sub.Close()
			if ctx.Err() == nil {
				r.log.Warn("tenant cache subscription failed; retrying", "err", err)
				time.Sleep(time.Second)
			}
			continue
		}
		r.flush()
		r.readyOnce.Do(func() { close(r.ready) })
		ch := sub.Channel()
	recv:
		for {
			select {
			case <-ctx.Done():
				break recv
			case msg, ok := <-ch:
				if !ok {
					break recv
				}
				if id, err := strconv.ParseInt(msg.Payload, 10, 64); err == nil {
					r.drop(id)
				}
			}
		}
		_ = sub.Close()
	}
}

// Ready is closed once Run listens for invalidations (its first subscription flushed the cache).
func (r *Resolver) Ready() <-chan struct{} { return r.ready }

func (r *Resolver) flush() {
	r.mu.Lock()
	r.cache = map[string]cacheEntry{}
	r.mu.Unlock()
}

func normalizeHost(host string) string {
	h := strings.ToLower(strings.TrimSpace(host))
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.TrimSuffix(h, ".")
}
