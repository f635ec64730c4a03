package domains_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/platform/domains"
	"github.com/paotui/paotui/internal/platform/plans"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// fakeDNS answers TXT lookups from a table and remembers what it was asked.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string]dnsAnswer
	asked   []string
}

type dnsAnswer struct {
	txts []string
	err  error
}

func newFakeDNS() *fakeDNS { return &fakeDNS{answers: map[string]dnsAnswer{}} }

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, name)
	a, ok := f.answers[name]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return a.txts, a.err
}

func (f *fakeDNS) set(name string, txts []string, err error) {
	f.mu.Lock()
	f.answers[name] = dnsAnswer{txts: txts, err: err}
	f.mu.Unlock()
}

func (f *fakeDNS) questions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.asked)
}

type noMembers struct{}

func (noMembers) Members(context.Context, *tenancy.Tenant, []string) (map[string][]string, error) {
	return map[string][]string{}, nil
}

const base = "paotui.example"

// env is a control plane with tenants whose schemas exist (the audit log lives there), the
// plan service as gate, a fake DNS, and two resolvers standing for two replicas.
type env struct {
	db       *store.DB
	url      string
	plans    *plans.Service
	dns      *fakeDNS
	svc      *domains.Service
	one, two *tenancy.Resolver
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, d := storetest.New(t)
	opt, err := redis.ParseURL(storetest.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	reg := tenancy.NewRegistry(db.Gorm, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e := &env{db: db, url: d.URL, plans: plans.NewService(db, noMembers{}), dns: newFakeDNS(),
		one: tenancy.NewResolver(reg, rdb, base, time.Hour, log), two: tenancy.NewResolver(reg, rdb, base, time.Hour, log)}
	for _, r := range []*tenancy.Resolver{e.one, e.two} {
		go r.Run(ctx)
		select {
		case <-r.Ready():
		case <-time.After(5 * time.Second):
			t.Fatal("resolver never subscribed")
		}
	}
	e.svc = domains.NewService(db, e.plans, e.dns, e.one, base, log)
	return e
}

// tenant registers an active tenant with a migrated schema on plan (none when "").
func (e *env) tenant(t *testing.T, slug, plan string) *tenancy.Tenant {
	t.Helper()
	ctx := context.Background()
	reg := tenancy.NewRegistry(e.db.Gorm, nil)
	var tn *tenancy.Tenant
	err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if tn, err = reg.Insert(tx, slug, slug); err != nil {
			return err
		}
		tn, err = reg.SetStatus(tx, tn.ID, tenancy.StatusActive, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.NewMigrator(e.url, 1, nil).UpTenant(ctx, tn.Schema); err != nil {
		t.Fatal(err)
	}
	if plan != "" {
		if err := e.plans.SetTenantPlan(ctx, tn.ID, plan, "platform:test", ""); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

func by(tn *tenancy.Tenant) audit.Entry {
	return audit.Entry{Actor: "user:owner-of-" + tn.Slug, IP: "192.0.2.7"}
}

// resolvesTo waits until host resolves to tenant id, or to nothing when id is 0. The wait is
// brief (replicas hear of changes through Redis) and shorter than the resolver's 3-second
// negative cache, so only an invalidation can make a new domain resolve in time.
func resolvesTo(t *testing.T, r *tenancy.Resolver, host string, id int64) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		h, err := r.Resolve(context.Background(), host)
		switch {
		case id == 0 && errors.Is(err, tenancy.ErrUnknownHost):
			return
		case id != 0 && err == nil && h.Kind == tenancy.KindTenant && h.Tenant.ID == id:
			return
		case err != nil && !errors.Is(err, tenancy.ErrUnknownHost):
			t.Fatalf("resolve %s: %v", host, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s resolves to %+v, %v; want tenant %d", host, h, err, id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auditActions lists the tenant's and the platform's domain entries, oldest first, as
// "action target".
func (e *env) auditActions(t *testing.T, tn *tenancy.Tenant) (tenantLog, platformLog []string) {
	t.Helper()
	err := e.db.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT action || ' ' || target FROM audit_log WHERE action LIKE 'domain.%' ORDER BY id`).Scan(&tenantLog).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.Gorm.Raw(`SELECT action || ' ' || target FROM public.platform_audit_log
		WHERE action LIKE 'domain.%' AND tenant_id = ? ORDER BY id`, tn.ID).Scan(&platformLog).Error; err != nil {
		t.Fatal(err)
	}
	return tenantLog, platformLog
}

func TestAddRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	a, b := e.tenant(t, "team-a", "pro"), e.tenant(t, "team-b", "pro")
	campus, planless := e.tenant(t, "team-c", "campus"), e.tenant(t, "team-d", "")

	for _, name := range []string{"", "localhost", "https://shop.north.cn", "shop_north.cn", "10.1.2.3"} {
		if _, err := e.svc.Add(ctx, a, name, by(a)); !errors.Is(err, domains.ErrInvalidDomain) {
			t.Errorf("add %q: %v", name, err)
		}
	}
	for _, name := range []string{base, "team-b." + base, "Deep.Team-A." + base + "."} {
		if _, err := e.svc.Add(ctx, a, name, by(a)); !errors.Is(err, domains.ErrPlatformDomain) {
			t.Errorf("add %q: %v", name, err)
		}
	}

	t.Run("plan gating", func(t *testing.T) {
		_, err := e.svc.Add(ctx, campus, "errands.south.cn", by(campus))
		var le *plans.LimitError
		if !errors.As(err, &le) || le.Kind != plans.KindCustomDomains || le.Upgrade == nil || le.Upgrade.ID != "pro" {
			t.Fatalf("campus plan: %v", err)
		}
		if _, err := e.svc.Add(ctx, planless, "errands.west.cn", by(planless)); err != nil {
			t.Errorf("a tenant without a plan is not limited: %v", err)
		}
	})

	t.Run("taken and exists", func(t *testing.T) {
		got, err := e.svc.Add(ctx, a, "Errands.North-Campus.CN", by(a))
		if err != nil {
			t.Fatal(err)
		}
		if got.Domain != "errands.north-campus.cn" || got.Status != domains.StatusPending || got.VerifiedAt != nil ||
			got.TXTRecord.Name != "_paotui.errands.north-campus.cn" || got.TXTRecord.Type != "TXT" ||
			len(got.TXTRecord.Value) < 40 || got.CNAMETarget != "team-a."+base {
			t.Errorf("added %+v", got)
		}
		if _, err := e.svc.Add(ctx, a, "errands.north-campus.cn.", by(a)); !errors.Is(err, domains.ErrDomainExists) {
			t.Errorf("again by a: %v", err)
		}
		if _, err := e.svc.Add(ctx, b, "errands.north-campus.cn", by(b)); !errors.Is(err, domains.ErrDomainTaken) {
			t.Errorf("by b: %v", err)
		}
	})

	t.Run("a stale claim is taken over, a verified one never", func(t *testing.T) {
		if _, err := e.svc.Add(ctx, a, "stale.north-campus.cn", by(a)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Add(ctx, a, "kept.north-campus.cn", by(a)); err != nil {
			t.Fatal(err)
		}
		if err := e.db.Gorm.Exec(`UPDATE public.tenant_domains SET created_at = now() - interval '4 days',
			verified_at = CASE WHEN domain = 'kept.north-campus.cn' THEN now() END
			WHERE domain IN ('stale.north-campus.cn', 'kept.north-campus.cn')`).Error; err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Add(ctx, b, "stale.north-campus.cn", by(b))
		if err != nil || got.CNAMETarget != "team-b."+base {
			t.Fatalf("take over: %+v %v", got, err)
		}
		if _, err := e.svc.Get(ctx, a, "stale.north-campus.cn"); !errors.Is(err, domains.ErrDomainNotFound) {
			t.Errorf("a still has it: %v", err)
		}
		if _, err := e.svc.Add(ctx, b, "kept.north-campus.cn", by(b)); !errors.Is(err, domains.ErrDomainTaken) {
			t.Errorf("verified domain: %v", err)
		}
		var meta string
		e.db.Gorm.Raw(`SELECT meta::text FROM public.platform_audit_log WHERE action = 'domain.add' AND target = 'domain:stale.north-campus.cn'
			AND tenant_id = ?`, b.ID).Scan(&meta)
		if want := `{"releasedFromTenant": ` + itoa(a.ID) + `}`; meta != want {
			t.Errorf("take-over audit meta %s; want %s", meta, want)
		}
	})

	t.Run("at most five", func(t *testing.T) {
		list, total, err := e.svc.List(ctx, a, 0, 0)
		if err != nil || int(total) != len(list) || total != 2 {
			t.Fatalf("a has %d (%v): %+v", total, err, list)
		}
		for _, d := range []string{"c.north.cn", "d.north.cn", "e.north.cn"} {
			if _, err := e.svc.Add(ctx, a, d, by(a)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.Add(ctx, a, "f.north.cn", by(a)); !errors.Is(err, domains.ErrTooManyDomains) {
			t.Errorf("sixth: %v", err)
		}
		list, total, _ = e.svc.List(ctx, a, 0, 0)
		var names []string
		for _, d := range list {
			names = append(names, d.Domain)
		}
		if total != 5 || !slices.IsSorted(names) {
			t.Errorf("list %v (%d)", names, total)
		}
		if page, total, _ := e.svc.List(ctx, a, 2, 4); total != 5 || len(page) != 1 {
			t.Errorf("last page %+v (%d)", page, total)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Verification: every way DNS can say no, then yes; the domain resolves at once on both
// replicas, stops when deleted, and every step is audited in both logs.
func TestVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	a, b := e.tenant(t, "team-a", "pro"), e.tenant(t, "team-b", "pro")
	const host = "errands.north-campus.cn"
	d, err := e.svc.Add(ctx, a, host, by(a))
	if err != nil {
		t.Fatal(err)
	}
	// Both replicas have looked the name up and cached that nobody serves there.
	resolvesTo(t, e.one, host, 0)
	resolvesTo(t, e.two, host, 0)

	txt := d.TXTRecord.Name
	cases := []struct {
		name string
		txts []string
		err  error
		want error
	}{
		{"no record", nil, &net.DNSError{Err: "no such host", Name: txt, IsNotFound: true}, domains.ErrTXTMissing},
		{"empty answer", []string{}, nil, domains.ErrTXTMissing},
		{"wrong token", []string{"v=spf1 -all", "paotui-verification=not-the-token"}, nil, domains.ErrTXTMismatch},
		{"the token of another domain", []string{"paotui-verification=" + d.TXTRecord.Value}, nil, domains.ErrTXTMismatch},
		{"DNS timeout", nil, &net.DNSError{Err: "i/o timeout", Name: txt, IsTimeout: true}, domains.ErrDNSUnavailable},
		{"DNS server failure", nil, errors.New("server misbehaving"), domains.ErrDNSUnavailable},
	}
	for _, tc := range cases {
		e.dns.set(txt, tc.txts, tc.err)
		_, err := e.svc.Verify(ctx, a, host, by(a))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, err, tc.want)
		}
		if errors.Is(tc.want, domains.ErrDNSUnavailable) {
			var ra interface{ RetryAfter() time.Duration }
			if !errors.As(err, &ra) || ra.RetryAfter() <= 0 {
				t.Errorf("%s: no retry hint in %v", tc.name, err)
			}
		}
	}
	if got, _ := e.svc.Get(ctx, a, host); got.Status != domains.StatusPending {
		t.Fatalf("verified by a failed check: %+v", got)
	}
	resolvesTo(t, e.one, host, 0)

	// Another tenant cannot verify a's domain, even with the right record.
	e.dns.set(txt, []string{"v=spf1 -all", `"` + d.TXTRecord.Value + `"`}, nil)
	if _, err := e.svc.Verify(ctx, b, host, by(b)); !errors.Is(err, domains.ErrDomainNotFound) {
		t.Errorf("b verifies a's domain: %v", err)
	}
	got, err := e.svc.Verify(ctx, a, host, by(a))
	if err != nil || got.Status != domains.StatusVerified || got.VerifiedAt == nil {
		t.Fatalf("verify: %+v %v", got, err)
	}
	// The negative entries were dropped on both replicas: the domain serves a at once.
	resolvesTo(t, e.one, host, a.ID)
	resolvesTo(t, e.two, host, a.ID)
	asked := e.dns.questions()
	if again, err := e.svc.Verify(ctx, a, "ERRANDS.north-campus.cn", by(a)); err != nil || !again.VerifiedAt.Equal(*got.VerifiedAt) {
		t.Errorf("verify again: %+v %v", again, err)
	}
	if e.dns.questions() != asked {
		t.Error("a verified domain was looked up again")
	}
	e.dns.mu.Lock()
	if e.dns.asked[0] != "_paotui."+host {
		t.Errorf("asked %v", e.dns.asked)
	}
	e.dns.mu.Unlock()

	t.Run("a plan without custom domains cannot verify", func(t *testing.T) {
		if _, err := e.svc.Add(ctx, a, "later.north-campus.cn", by(a)); err != nil {
			t.Fatal(err)
		}
		if err := e.plans.SetTenantPlan(ctx, a.ID, "campus", "platform:test", "downgrade"); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = e.plans.SetTenantPlan(ctx, a.ID, "pro", "platform:test", "") }()
		e.dns.set("_paotui.later.north-campus.cn", []string{"anything"}, nil)
		if _, err := e.svc.Verify(ctx, a, "later.north-campus.cn", by(a)); !errors.Is(err, plans.ErrLimitReached) {
			t.Errorf("verify on campus: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		if err := e.svc.Delete(ctx, b, host, by(b)); !errors.Is(err, domains.ErrDomainNotFound) {
			t.Errorf("b deletes a's domain: %v", err)
		}
		resolvesTo(t, e.two, host, a.ID)
		if err := e.svc.Delete(ctx, a, host, by(a)); err != nil {
			t.Fatal(err)
		}
		resolvesTo(t, e.one, host, 0)
		resolvesTo(t, e.two, host, 0)
		if err := e.svc.Delete(ctx, a, host, by(a)); !errors.Is(err, domains.ErrDomainNotFound) {
			t.Errorf("delete again: %v", err)
		}
		if _, err := e.svc.Verify(ctx, a, host, by(a)); !errors.Is(err, domains.ErrDomainNotFound) {
			t.Errorf("verify deleted: %v", err)
		}
	})

	tenantLog, platformLog := e.auditActions(t, a)
	want := []string{"domain.add domain:" + host, "domain.verify domain:" + host, "domain.add domain:later.north-campus.cn",
		"domain.delete domain:" + host}
	if !slices.Equal(tenantLog, want) || !slices.Equal(platformLog, want) {
		t.Errorf("tenant log %q\nplatform log %q\nwant %q", tenantLog, platformLog, want)
	}
	if tl, pl := e.auditActions(t, b); len(tl)+len(pl) != 0 {
		t.Errorf("b's refused attempts were audited: %v %v", tl, pl)
	}
}
