package authz

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

// env is a migrated database with two tenant schemas, a private Redis database and a private
// invalidation channel (pub/sub ignores Redis database numbers, so parallel tests would
// otherwise hear each other).
type env struct {
	db      *store.DB
	rdb     *redis.Client
	channel string
	t1, t2  *tenancy.Tenant
}

func setup(tb testing.TB) *env {
	tb.Helper()
	ctx := context.Background()
	db, d := storetest.New(tb)
	mig := store.NewMigrator(d.URL, 4, nil)
	for _, schema := range []string{"tenant_1", "tenant_2"} {
		if _, _, err := mig.UpTenant(ctx, schema); err != nil {
			tb.Fatal(err)
		}
	}
	opt, err := redis.ParseURL(storetest.Redis(tb))
	if err != nil {
		tb.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { _ = rdb.Close() })
	return &env{
		db:      db,
		rdb:     rdb,
		channel: invalidateChannel + ":test:" + newUserID(tb),
		t1:      &tenancy.Tenant{ID: 1, Slug: "one", Schema: "tenant_1", Status: tenancy.StatusActive},
		t2:      &tenancy.Tenant{ID: 2, Slug: "two", Schema: "tenant_2", Status: tenancy.StatusActive},
	}
}

// authorizer returns a new replica on env's database and Redis.
func (e *env) authorizer(tb testing.TB) *Authorizer {
	tb.Helper()
	a, err := New(e.db, e.rdb, nil)
	if err != nil {
		tb.Fatal(err)
	}
	a.channel = e.channel
	return a
}

// run starts a.Run until the test ends and waits until it is subscribed.
func run(tb testing.TB, a *Authorizer) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-a.ready:
	case <-time.After(5 * time.Second):
		tb.Fatal("Run did not subscribe within 5s")
	}
}

func (e *env) grant(tb testing.TB, a *Authorizer, t *tenancy.Tenant, userID, role string) {
	tb.Helper()
	if err := e.tryGrant(a, t, userID, role); err != nil {
		tb.Fatalf("grant %s: %v", role, err)
	}
	if err := a.Invalidate(context.Background(), t); err != nil {
		tb.Fatal(err)
	}
}

func (e *env) tryGrant(a *Authorizer, t *tenancy.Tenant, userID, role string) error {
	return e.db.InTenant(context.Background(), t, func(tx *gorm.DB) error {
		return a.GrantTx(tx, t, userID, role)
	})
}

func (e *env) tryRevoke(a *Authorizer, t *tenancy.Tenant, userID, role string) error {
	return e.db.InTenant(context.Background(), t, func(tx *gorm.DB) error {
		return a.RevokeTx(tx, t, userID, role)
	})
}

func (e *env) exec(tb testing.TB, t *tenancy.Tenant, sql string, args ...any) {
	tb.Helper()
	err := e.db.InTenant(context.Background(), t, func(tx *gorm.DB) error { return tx.Exec(sql, args...).Error })
	if err != nil {
		tb.Fatal(err)
	}
}

func newUserID(tb testing.TB) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func can(tb testing.TB, a *Authorizer, t *tenancy.Tenant, userID, perm string) bool {
	tb.Helper()
	ok, err := a.Can(context.Background(), t, userID, perm)
	if err != nil {
		tb.Fatalf("Can(%s): %v", perm, err)
	}
	return ok
}

func TestCanBuiltinMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	users := map[string]string{"nobody": newUserID(t)}
	for _, role := range BuiltinRoles() {
		users[role] = newUserID(t)
		e.grant(t, a, e.t1, users[role], role)
	}
	cases := []struct {
		role string
		perm string
		want bool
	}{
		{RoleOwner, "roles:manage", true},
		{RoleOwner, "pii:read", true},
		{RoleOwner, "anything:at-all", true},
		{RoleAdmin, "users:read", true},
		{RoleAdmin, "pii:read", true},
		{RoleAdmin, "orders:refund", true},
		{RoleAdmin, "roles:manage", false},
		{RoleAdmin, "finance:payout", false},
		{RoleDispatcher, "orders:assign", true},
		{RoleDispatcher, "users:read", true},
		{RoleDispatcher, "pii:read", false},
		{RoleDispatcher, "orders:refund", false},
		{RoleFinance, "orders:refund", true},
		{RoleFinance, "finance:payout", true},
		{RoleFinance, "pii:read", false},
		{RoleSupport, "pii:read", true},
		{RoleSupport, "support:reply", true},
		{RoleSupport, "orders:assign", false},
		{RoleCourier, "hall:read", true},
		{RoleCourier, "trips:start", true},
		{RoleCourier, "users:read", false},
		{RoleStudent, "errands:create", true},
		{RoleStudent, "users:read", false},
		{RoleStudent, "hall:read", false},
		{"nobody", "users:read", false},
		{"nobody", "errands:create", false},
		{"nobody", "hall:read", false},
	}
	for _, tc := range cases {
		t.Run(tc.role+" "+tc.perm, func(t *testing.T) {
			t.Parallel()
			if got := can(t, a, e.t1, users[tc.role], tc.perm); got != tc.want {
				t.Fatalf("Can(%s, %s) = %v, want %v", tc.role, tc.perm, got, tc.want)
			}
		})
	}
}

func TestDomainIsolation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	u := newUserID(t)
	e.grant(t, a, e.t1, u, RoleAdmin)

	if !can(t, a, e.t1, u, "users:read") {
		t.Fatal("admin of tenant 1 cannot users:read in tenant 1")
	}
	for _, perm := range []string{"users:read", "pii:read", "orders:assign", "errands:create"} {
		if can(t, a, e.t2, u, perm) {
			t.Errorf("admin of tenant 1 can %s in tenant 2", perm)
		}
	}
	roles, err := a.RolesOf(context.Background(), e.t2, u)
	if err != nil || len(roles) != 0 {
		t.Fatalf("RolesOf in tenant 2 = %v, %v; want none", roles, err)
	}
}

func TestGrantRevoke(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	ctx := context.Background()
	u := newUserID(t)

	if can(t, a, e.t1, u, "orders:assign") {
		t.Fatal("user without roles can orders:assign")
	}
	e.grant(t, a, e.t1, u, RoleDispatcher)
	if !can(t, a, e.t1, u, "orders:assign") {
		t.Fatal("dispatcher cannot orders:assign after grant")
	}
	if err := e.tryRevoke(a, e.t1, u, RoleDispatcher); err != nil {
		t.Fatal(err)
	}
	if !can(t, a, e.t1, u, "orders:assign") {
		t.Fatal("enforcer reloaded before Invalidate: the cache is not used")
	}
	if err := a.Invalidate(ctx, e.t1); err != nil {
		t.Fatal(err)
	}
	if can(t, a, e.t1, u, "orders:assign") {
		t.Fatal("revoked dispatcher can still orders:assign after Invalidate")
	}
	if err := e.tryRevoke(a, e.t1, u, RoleDispatcher); err != nil {
		t.Fatalf("revoking a role not held: %v", err)
	}
}

func TestGrantIdempotent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	u := newUserID(t)
	e.grant(t, a, e.t1, u, RoleAdmin)
	e.grant(t, a, e.t1, u, RoleAdmin)

	var n int64
	err := e.db.InTenant(context.Background(), e.t1, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM casbin_rules WHERE v0 = ?`, Subject(u)).Scan(&n).Error
	})
	if err != nil || n != 1 {
		t.Fatalf("rows for user = %d, %v; want 1", n, err)
	}
	roles, err := a.RolesOf(context.Background(), e.t1, u)
	if err != nil || !slices.Equal(roles, []string{RoleAdmin}) {
		t.Fatalf("RolesOf = %v, %v; want [admin]", roles, err)
	}
}

func TestCrossReplicaInvalidation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ra, rb := e.authorizer(t), e.authorizer(t)
	run(t, ra)
	run(t, rb)
	u := newUserID(t)

	if can(t, rb, e.t1, u, "pii:read") { // B caches tenant 1's enforcer
		t.Fatal("user without roles can pii:read")
	}
	if err := e.tryGrant(ra, e.t1, u, RoleSupport); err != nil {
		t.Fatal(err)
	}
	if can(t, rb, e.t1, u, "pii:read") {
		t.Fatal("B reloaded before any invalidation: the cache is not used")
	}
	if err := ra.Invalidate(context.Background(), e.t1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for !can(t, rb, e.t1, u, "pii:read") {
		if time.Now().After(deadline) {
			t.Fatal("B did not see the grant made on A within 1s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCacheTTL(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	a.ttl = 50 * time.Millisecond
	u := newUserID(t)
	if can(t, a, e.t1, u, "users:read") {
		t.Fatal("user without roles can users:read")
	}
	if err := e.tryGrant(a, e.t1, u, RoleAdmin); err != nil { // no Invalidate: a lost message
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !can(t, a, e.t1, u, "users:read") {
		if time.Now().After(deadline) {
			t.Fatal("expired enforcer was not reloaded")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestGrantUnknownRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	e.exec(t, e.t1, `INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', 'night-dispatcher', 't:1', 'orders', 'assign')`)
	cases := []struct {
		name   string
		tenant *tenancy.Tenant
		role   string
	}{
		{"made up", e.t1, "wizard"},
		{"empty", e.t1, ""},
		{"a user", e.t1, "user:" + newUserID(t)},
		{"custom role of another tenant", e.t2, "night-dispatcher"},
		{"case differs", e.t1, "Admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := e.tryGrant(a, tc.tenant, newUserID(t), tc.role)
			if !errors.Is(err, ErrUnknownRole) {
				t.Fatalf("GrantTx(%q) = %v, want ErrUnknownRole", tc.role, err)
			}
		})
	}
}

func TestRevokeLastOwner(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	ownerA, ownerB := newUserID(t), newUserID(t)
	e.grant(t, a, e.t1, ownerA, RoleOwner)

	if err := e.tryRevoke(a, e.t1, ownerA, RoleOwner); !errors.Is(err, ErrLastOwner) {
		t.Fatalf("revoking the only owner = %v, want ErrLastOwner", err)
	}
	if err := e.tryRevoke(a, e.t1, ownerB, RoleOwner); err != nil {
		t.Fatalf("revoking owner from a non-owner while one owner is left = %v", err)
	}
	e.grant(t, a, e.t1, ownerB, RoleOwner)
	if err := e.tryRevoke(a, e.t1, ownerA, RoleOwner); err != nil {
		t.Fatalf("revoking one of two owners = %v", err)
	}
	if err := e.tryRevoke(a, e.t1, ownerB, RoleOwner); !errors.Is(err, ErrLastOwner) {
		t.Fatalf("revoking the remaining owner = %v, want ErrLastOwner", err)
	}
	if err := a.Invalidate(context.Background(), e.t1); err != nil {
		t.Fatal(err)
	}
	if !can(t, a, e.t1, ownerB, "roles:manage") || can(t, a, e.t1, ownerA, "roles:manage") {
		t.Fatal("wrong owner left after revocations")
	}
}

// Two owners revoking each other at once must not leave the tenant without an owner.
func TestRevokeLastOwnerConcurrent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	for range 5 {
		owners := []string{newUserID(t), newUserID(t)}
		for _, o := range owners {
			e.grant(t, a, e.t1, o, RoleOwner)
		}
		errs := make([]error, len(owners))
		var wg sync.WaitGroup
		for i, o := range owners {
			wg.Go(func() { errs[i] = e.tryRevoke(a, e.t1, o, RoleOwner) })
		}
		wg.Wait()
		failed := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, ErrLastOwner):
				failed++
			case err != nil:
				t.Fatal(err)
			}
		}
		if failed != 1 {
			t.Fatalf("%d of 2 concurrent revocations failed with ErrLastOwner, want exactly 1", failed)
		}
		// Reset: drop the owner that is left.
		e.exec(t, e.t1, `DELETE FROM casbin_rules WHERE v1 = 'owner'`)
	}
}

func TestCustomRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	ctx := context.Background()
	e.exec(t, e.t1, `INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES ('p', 'night-dispatcher', 't:1', 'orders', 'assign')`)
	e.exec(t, e.t1, `INSERT INTO casbin_rules (ptype, v0, v1, v2) VALUES ('g', 'night-lead', 'dispatcher', 't:1')`)
	night, lead := newUserID(t), newUserID(t)
	e.grant(t, a, e.t1, night, "night-dispatcher")
	e.grant(t, a, e.t1, lead, "night-lead")

	cases := []struct {
		name   string
		tenant *tenancy.Tenant
		user   string
		perm   string
		want   bool
	}{
		{"custom role grants its permission", e.t1, night, "orders:assign", true},
		{"custom role grants nothing else", e.t1, night, "orders:read", false},
		{"custom role does not leak to another tenant", e.t2, night, "orders:assign", false},
		{"custom role inherits a built-in role", e.t1, lead, "orders:assign", true},
		{"inherited role stops at its own permissions", e.t1, lead, "pii:read", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := can(t, a, tc.tenant, tc.user, tc.perm); got != tc.want {
				t.Fatalf("Can(%s) = %v, want %v", tc.perm, got, tc.want)
			}
		})
	}
	perms, err := a.PermissionsOf(ctx, e.t1, lead)
	// night-lead inherits dispatcher: everything in policy.csv for dispatcher.
	if want := []string{"couriers:read", "orderchat:read", "orders:assign", "orders:exception", "orders:note", "orders:read", "users:read"}; err != nil || !slices.Equal(perms, want) {
		t.Fatalf("PermissionsOf(night-lead) = %v, %v; want %v", perms, err, want)
	}
}

// Rows a tenant must not hold are ignored when loading, so a bad row can only remove rights.
func TestTenantRowsCannotWidenBuiltins(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	student := newUserID(t)
	e.grant(t, a, e.t1, student, RoleStudent)
	for _, row := range [][]string{
		{"p", "student", "*", "*", "*"},               // rewrite a template for every domain
		{"p", "student", "t:1", "users", "read"},      // widen a built-in role in this tenant
		{"p", Subject(student), "t:1", "pii", "read"}, // per-user permission
		{"g", Subject(student), "owner", "*"},         // role in every domain
		{"g", Subject(student), "owner", "t:2"},       // role in another tenant, from this one's table
		{"g", "student", "admin", "t:1"},              // built-in role inheriting
	} {
		vals := append(row, "", "", "")[:5]
		e.exec(t, e.t1, `INSERT INTO casbin_rules (ptype, v0, v1, v2, v3) VALUES (?, ?, ?, ?, ?)`,
			vals[0], vals[1], vals[2], vals[3], vals[4])
	}
	if err := a.Invalidate(context.Background(), e.t1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant *tenancy.Tenant
		perm   string
	}{{e.t1, "users:read"}, {e.t1, "pii:read"}, {e.t1, "roles:manage"}, {e.t2, "roles:manage"}, {e.t2, "errands:create"}} {
		if can(t, a, tc.tenant, student, tc.perm) {
			t.Errorf("student can %s in %s through a forged row", tc.perm, tc.tenant.Domain())
		}
	}
	if !can(t, a, e.t1, student, "errands:create") {
		t.Error("student lost errands:create")
	}
}

func TestRolesAndPermissionsOf(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	ctx := context.Background()
	owner, multi, nobody := newUserID(t), newUserID(t), newUserID(t)
	e.grant(t, a, e.t1, owner, RoleOwner)
	e.grant(t, a, e.t1, multi, RoleStudent)
	e.grant(t, a, e.t1, multi, RoleCourier)
	cases := []struct {
		name      string
		user      string
		wantRoles []string
		wantPerms []string
	}{
		{"owner", owner, []string{"owner"}, []string{"*:*"}},
		{"student and courier", multi, []string{"courier", "student"}, []string{"courier_application:*", "errands:*", "hall:read", "orderchat:*", "trips:*"}},
		{"nobody", nobody, []string{}, []string{}},
		{"empty id", "", []string{}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			roles, err := a.RolesOf(ctx, e.t1, tc.user)
			if err != nil || !slices.Equal(roles, tc.wantRoles) || roles == nil {
				t.Errorf("RolesOf = %#v, %v; want %#v", roles, err, tc.wantRoles)
			}
			perms, err := a.PermissionsOf(ctx, e.t1, tc.user)
			if err != nil || !slices.Equal(perms, tc.wantPerms) || perms == nil {
				t.Errorf("PermissionsOf = %#v, %v; want %#v", perms, err, tc.wantPerms)
			}
		})
	}
}

// Many readers, reloads and invalidations at once; meant for -race.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	run(t, a)
	ctx := context.Background()
	u := newUserID(t)
	e.grant(t, a, e.t1, u, RoleAdmin)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 50 {
				tn := e.t1
				if (i+j)%2 == 1 {
					tn = e.t2
				}
				ok, err := a.Can(ctx, tn, u, "users:read")
				if err != nil || ok != (tn == e.t1) {
					t.Errorf("Can in %s = %v, %v", tn.Domain(), ok, err)
					return
				}
				if _, err := a.PermissionsOf(ctx, tn, u); err != nil {
					t.Error(err)
					return
				}
				if j%10 == 0 {
					if err := a.Invalidate(ctx, tn); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestStaleLoadIsNotCached(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.authorizer(t)
	ctx := context.Background()
	if _, err := a.policy(ctx, e.t1); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		drop func()
	}{
		{"tenant dropped", func() { a.drop(e.t1.ID) }},
		{"all dropped", a.dropAll},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.mu.RLock()
			v := a.versionLocked(e.t1.ID)
			a.mu.RUnlock()
			tc.drop()
			a.mu.RLock()
			defer a.mu.RUnlock()
			if a.versionLocked(e.t1.ID) == v {
				t.Fatal("version unchanged: a load started before the drop would be cached")
			}
			if _, ok := a.cache[e.t1.ID]; ok {
				t.Fatal("enforcer still cached after drop")
			}
		})
	}
}

func TestCanArguments(t *testing.T) {
	t.Parallel()
	a := &Authorizer{} // argument checks come before any I/O
	cases := []struct {
		name string
		perm string
		ok   bool
	}{
		{"no colon", "usersread", false},
		{"empty", "", false},
		{"no action", "users:", false},
		{"no resource", ":read", false},
		{"two colons", "users:read:all", false},
		{"space", "users: read", false},
		{"comma", "users:read,write", false},
		{"valid", "users:read", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := splitPermission(tc.perm)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrBadPermission) {
				t.Fatalf("splitPermission(%q) = %v", tc.perm, err)
			}
			if !tc.ok {
				if _, err := a.Can(context.Background(), nil, "u", tc.perm); !errors.Is(err, ErrBadPermission) {
					t.Fatalf("Can(%q) = %v, want ErrBadPermission", tc.perm, err)
				}
			}
		})
	}
}

func TestRuleRow(t *testing.T) {
	t.Parallel()
	const dom = "t:7"
	cases := []struct {
		name string
		row  ruleRow
		want []string // nil = refused
	}{
		{"user role", ruleRow{Ptype: "g", V0: "user:u1", V1: "admin", V2: dom}, []string{"g", "user:u1", "admin", dom}},
		{"custom role", ruleRow{Ptype: "p", V0: "night", V1: dom, V2: "orders", V3: "assign"}, []string{"p", "night", dom, "orders", "assign"}},
		{"custom inherits", ruleRow{Ptype: "g", V0: "night", V1: "dispatcher", V2: dom}, []string{"g", "night", "dispatcher", dom}},
		{"g other domain", ruleRow{Ptype: "g", V0: "user:u1", V1: "admin", V2: "t:8"}, nil},
		{"g template domain", ruleRow{Ptype: "g", V0: "user:u1", V1: "admin", V2: "*"}, nil},
		{"g prefix domain", ruleRow{Ptype: "g", V0: "user:u1", V1: "admin", V2: "t:7*"}, nil},
		{"p template domain", ruleRow{Ptype: "p", V0: "night", V1: "*", V2: "*", V3: "*"}, nil},
		{"p built-in role", ruleRow{Ptype: "p", V0: "admin", V1: dom, V2: "roles", V3: "manage"}, nil},
		{"p per user", ruleRow{Ptype: "p", V0: "user:u1", V1: dom, V2: "pii", V3: "read"}, nil},
		{"p extra field", ruleRow{Ptype: "p", V0: "night", V1: dom, V2: "orders", V3: "assign", V4: "deny"}, nil},
		{"p empty action", ruleRow{Ptype: "p", V0: "night", V1: dom, V2: "orders"}, nil},
		{"g built-in inherits", ruleRow{Ptype: "g", V0: "student", V1: "owner", V2: dom}, nil},
		{"g inherits a user", ruleRow{Ptype: "g", V0: "night", V1: "user:u1", V2: dom}, nil},
		{"g extra field", ruleRow{Ptype: "g", V0: "user:u1", V1: "admin", V2: dom, V3: "x"}, nil},
		{"unknown ptype", ruleRow{Ptype: "g2", V0: "a", V1: "b", V2: dom}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.row.rule(dom)
			if tc.want == nil && err == nil || tc.want != nil && (err != nil || !slices.Equal(got, tc.want)) {
				t.Fatalf("rule() = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseBuiltin(t *testing.T) {
	t.Parallel()
	all := ""
	for _, r := range BuiltinRoles() {
		all += "p, " + r + ", *, x, y\n"
	}
	cases := []struct {
		name string
		text string
		ok   bool
	}{
		{"every role", "# comment\n\n" + all, true},
		{"template inheritance", all + "g, owner, admin, *\n", true},
		{"unknown role", all + "p, wizard, *, x, y\n", false},
		{"tenant domain", all + "p, admin, t:1, x, y\n", false},
		{"role without permissions", "p, owner, *, *, *\n", false},
		{"short line", all + "p, admin, *, x\n", false},
		{"g to tenant", all + "g, owner, admin, t:1\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := parseBuiltin(tc.text); tc.ok != (err == nil) {
				t.Fatalf("parseBuiltin = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func BenchmarkCan(b *testing.B) {
	e := setup(b)
	a, err := New(e.db, e.rdb, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	users := make([]string, 0, 200)
	for i := range cap(users) {
		u := newUserID(b)
		users = append(users, u)
		role := BuiltinRoles()[i%len(BuiltinRoles())]
		if err := e.tryGrant(a, e.t1, u, role); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Invalidate(ctx, e.t1); err != nil {
		b.Fatal(err)
	}
	p, err := a.policy(ctx, e.t1) // warm the cache
	if err != nil {
		b.Fatal(err)
	}
	// Baseline: casbin alone on the same loaded enforcer.
	b.Run("casbin-enforce", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := p.enf.Enforce(Subject(users[i%len(users)]), p.domain, "orders", "assign"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := a.Can(ctx, e.t1, users[i%len(users)], "orders:assign"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := a.Can(ctx, e.t1, users[i%len(users)], "orders:assign"); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}
