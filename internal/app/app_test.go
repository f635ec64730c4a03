package app_test

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/ledger"
	"github.com/paotui/paotui/internal/platform/provision"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// The "done" path: an owner requests a code, signs in, reads /me and grants a staff
// role, all over HTTP; the new dispatcher then signs in with their own permissions.
func TestOwnerSignsInAndGrantsStaffRole(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("pku", "13800000000")
	owner := env.Login("pku", "13800000000")
	host := env.Host("pku")

	r := env.Do(host, "GET", "/api/v1/me", owner.AccessToken, nil)
	var me struct {
		Phone       string   `json:"phone"`
		Roles       []string `json:"roles"`
		Permissions []string `json:"permissions"`
		Tenant      struct{ Slug string }
	}
	r.JSON(t, &me)
	if r.Status != 200 || me.Phone != "13800000000" || len(me.Roles) != 1 || me.Roles[0] != "owner" || me.Tenant.Slug != "pku" {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}

	r = env.Do(host, "POST", "/api/v1/staff/roles", owner.AccessToken, map[string]string{"phone": "13612345678", "role": "dispatcher", "name": "调度员"})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"created":true`) || !strings.Contains(string(r.Body), "136****5678") {
		t.Fatalf("grant: %d %s", r.Status, r.Body)
	}
	disp := env.Login("pku", "13612345678")
	if got := strings.Join(disp.User.Roles, ","); got != "dispatcher" {
		t.Fatalf("dispatcher roles = %q", got)
	}
	// A dispatcher may not manage roles or read personal data.
	r = env.Do(host, "POST", "/api/v1/staff/roles", disp.AccessToken, map[string]string{"phone": "13612345679", "role": "admin"})
	if r.Status != http.StatusForbidden || r.Problem(t).Code != "permission_denied" {
		t.Fatalf("dispatcher granting: %d %s", r.Status, r.Body)
	}
	r = env.Do(host, "GET", "/api/v1/users/"+owner.User.ID+"/pii", disp.AccessToken, nil)
	if r.Status != http.StatusForbidden {
		t.Fatalf("dispatcher reading pii: %d %s", r.Status, r.Body)
	}
	// The owner can, and the read is audited; so are the logins and the grant.
	r = env.Do(host, "GET", "/api/v1/users/"+disp.User.ID+"/pii", owner.AccessToken, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "13612345678") {
		t.Fatalf("owner reading pii: %d %s", r.Status, r.Body)
	}
	r = env.Do(host, "GET", "/api/v1/audit-log?limit=50", owner.AccessToken, nil)
	for _, action := range []string{"auth.login", "roles.grant", "pii.read"} {
		if !strings.Contains(string(r.Body), `"action":"`+action) {
			t.Errorf("audit log lacks %s: %s", action, r.Body)
		}
	}
	if strings.Contains(string(r.Body), "13612345678") {
		t.Fatal("audit log holds a phone number in clear")
	}
	// Revoking the last owner is refused; revoking the dispatcher works and takes effect.
	r = env.Do(host, "DELETE", "/api/v1/staff/"+owner.User.ID+"/roles/owner", owner.AccessToken, nil)
	if r.Status != http.StatusConflict || r.Problem(t).Code != "last_owner" {
		t.Fatalf("revoke last owner: %d %s", r.Status, r.Body)
	}
	r = env.Do(host, "DELETE", "/api/v1/staff/"+disp.User.ID+"/roles/dispatcher", owner.AccessToken, nil)
	if r.Status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	r = env.Do(host, "GET", "/api/v1/users", disp.AccessToken, nil)
	if r.Status != http.StatusForbidden {
		t.Fatalf("revoked dispatcher still lists users: %d", r.Status)
	}
}

func TestTokenOfOneTenantIsRefusedOnAnother(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("alpha", "13800000001")
	env.Tenant("bravo", "13800000002")
	a := env.Login("alpha", "13800000001")
	r := env.Do(env.Host("bravo"), "GET", "/api/v1/me", a.AccessToken, nil)
	if r.Status != http.StatusUnauthorized || r.Problem(t).Code != "token_invalid" {
		t.Fatalf("alpha token on bravo: %d %s", r.Status, r.Body)
	}
	// Nor does a tenant token open the platform panel, or the X-Paotui-Tenant header
	// override a tenant host.
	if r := env.Do(env.PlatformHost(), "GET", "/api/v1/platform/me", a.AccessToken, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("tenant token on platform host: %d", r.Status)
	}
	req := env.Do(env.Host("alpha"), "GET", "/api/v1/me", a.AccessToken, nil)
	if req.Status != 200 {
		t.Fatalf("own host: %d %s", req.Status, req.Body)
	}
	// Refresh tokens are per tenant as well.
	r = env.Do(env.Host("bravo"), "POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": a.RefreshToken})
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("alpha refresh token on bravo: %d %s", r.Status, r.Body)
	}
}

func TestSuspendedTenantIsRefusedAndResumes(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("gamma", "13800000003")
	s := env.Login("gamma", "13800000003")
	host := env.Host("gamma")
	ctx := context.Background()
	if _, err := env.App.SetTenantStatus(ctx, "gamma", tenancy.StatusSuspended, "unpaid", "test"); err != nil {
		t.Fatal(err)
	}
	r := env.Do(host, "GET", "/api/v1/users", s.AccessToken, nil)
	if r.Status != http.StatusForbidden || r.Problem(t).Code != "tenant_suspended" || !strings.Contains(r.Problem(t).Detail, "gamma") {
		t.Fatalf("suspended: %d %s", r.Status, r.Body)
	}
	// Signing in and reading one's own profile still work (so the owner can settle the bill).
	if r := env.Do(host, "GET", "/api/v1/me", s.AccessToken, nil); r.Status != 200 {
		t.Fatalf("me while suspended: %d %s", r.Status, r.Body)
	}
	if _, err := env.App.SetTenantStatus(ctx, "gamma", tenancy.StatusActive, "", "test"); err != nil {
		t.Fatal(err)
	}
	if r := env.Do(host, "GET", "/api/v1/users", s.AccessToken, nil); r.Status != 200 {
		t.Fatalf("after resume: %d %s", r.Status, r.Body)
	}
	if _, err := env.App.SetTenantStatus(ctx, "gamma", tenancy.StatusProvisioning, "", "test"); err == nil {
		t.Fatal("active -> provisioning must be refused")
	}
	// "Resuming" a tenant whose provisioning has not finished would skip its schema and owner.
	if _, err := env.App.Provision.Register(ctx, provision.Request{Slug: "delta", Name: "Delta", OwnerPhone: "13800000009"}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.SetTenantStatus(ctx, "delta", tenancy.StatusActive, "", "test"); err == nil {
		t.Fatal("provisioning -> active by an operator must be refused")
	}
	if d, err := env.App.Registry.BySlug(ctx, "delta"); err != nil || d.Status != tenancy.StatusProvisioning {
		t.Fatalf("delta after the refused resume: %+v, %v", d, err)
	}
}

// Bad input of every kind gets a 4xx problem with a code, never a 500.
func TestBadInputGetsProblems(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("delta", "13800000004")
	owner := env.Login("delta", "13800000004")
	host := env.Host("delta")
	cases := []struct {
		name, host, method, path, token string
		body                            any
		status                          int
		code                            string
	}{
		{"unknown tenant", "nowhere.localhost", "GET", "/api/v1/me", "", nil, 404, "tenant_not_found"},
		{"reserved subdomain", "www.localhost", "GET", "/api/v1/me", "", nil, 404, "tenant_not_found"},
		{"bad slug host", "-x-.localhost", "GET", "/api/v1/me", "", nil, 404, "tenant_not_found"},
		{"tenant op on base host", "localhost", "GET", "/api/v1/me", "", nil, 404, "not_found"},
		{"no token", host, "GET", "/api/v1/me", "", nil, 401, "unauthorized"},
		{"garbage token", host, "GET", "/api/v1/me", "not.a.jwt", nil, 401, "token_invalid"},
		{"bad phone", host, "POST", "/api/v1/auth/sms-code", "", map[string]string{"phone": "12345"}, 422, "invalid_phone"},
		{"malformed json", host, "POST", "/api/v1/auth/login", "", `{"phone":`, 400, "malformed_body"},
		{"wrong type", host, "POST", "/api/v1/auth/login", "", `{"phone": 13800000004}`, 422, "validation_failed"},
		{"code never sent", host, "POST", "/api/v1/auth/login", "", map[string]string{"phone": "13912345678", "code": "123456"}, 401, "sms_code_expired"},
		{"code not digits", host, "POST", "/api/v1/auth/login", "", map[string]string{"phone": "13912345678", "code": "abcdef"}, 422, "validation_failed"},
		{"neither code nor password", host, "POST", "/api/v1/auth/login", "", map[string]string{"phone": "13912345678"}, 422, "credentials_required"},
		{"bad password", host, "POST", "/api/v1/auth/login", "", map[string]string{"phone": "13800000004", "password": "wrong-password"}, 401, "bad_credentials"},
		{"bad refresh token", host, "POST", "/api/v1/auth/refresh", "", map[string]string{"refreshToken": "nope"}, 401, "refresh_token_invalid"},
		{"unknown role", host, "POST", "/api/v1/staff/roles", owner.AccessToken, map[string]string{"phone": "13612340000", "role": "emperor"}, 422, "unknown_role"},
		{"student role not grantable", host, "POST", "/api/v1/staff/roles", owner.AccessToken, map[string]string{"phone": "13612340000", "role": "student"}, 422, "role_not_grantable"},
		{"bad user id", host, "GET", "/api/v1/users/not-a-uuid/pii", owner.AccessToken, nil, 422, "validation_failed"},
		{"unknown user", host, "GET", "/api/v1/users/00000000-0000-0000-0000-000000000000/pii", owner.AccessToken, nil, 404, "user_not_found"},
		{"limit too high", host, "GET", "/api/v1/users?limit=100000", owner.AccessToken, nil, 422, "validation_failed"},
		{"unknown route", host, "GET", "/api/v1/nothing-here", owner.AccessToken, nil, 404, "not_found"},
		{"wrong method", host, "DELETE", "/api/v1/me", owner.AccessToken, nil, 405, "method_not_allowed"},
		{"platform login bad", env.PlatformHost(), "POST", "/api/v1/platform/auth/login", "", map[string]string{"email": "x@y.z", "password": "nope-nope"}, 401, "bad_credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := env.Do(tc.host, tc.method, tc.path, tc.token, tc.body)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Fatalf("content type %q", ct)
			}
			p := r.Problem(t)
			if p.Code != tc.code || p.Instance == "" {
				t.Fatalf("code %q (instance %q), want %q: %s", p.Code, p.Instance, tc.code, r.Body)
			}
		})
	}
}

// The provisioning job runs through the real outbox -> relay -> asynq -> worker path.
func TestProvisioningThroughTheWorker(t *testing.T) {
	env := apptest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.App.RunWorker(ctx) }()
	defer func() { cancel(); <-done }()

	tn, err := env.App.Provision.Register(ctx, provision.Request{Slug: "epsilon", Name: "Epsilon 跑腿", OwnerPhone: "13800000005"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := env.App.Provision.Progress(ctx, tn.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == "active" {
			if p.Step != "done" || p.Attempts < 1 {
				t.Fatalf("progress %+v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not provisioned by the worker: %+v", p)
		}
		time.Sleep(100 * time.Millisecond)
	}
	env.Login("epsilon", "13800000005")
}

// A failed provisioning is visible and retryable, and re-running a finished one is harmless.
func TestProvisioningFailureIsVisibleAndResumable(t *testing.T) {
	env := apptest.New(t)
	ctx := context.Background()
	tn, err := env.App.Provision.Register(ctx, provision.Request{Slug: "zeta", Name: "Zeta", OwnerPhone: "13800000006"})
	if err != nil {
		t.Fatal(err)
	}
	// Sabotage: an object in the tenant's schema that the first migration collides with,
	// as if a half-finished earlier attempt had left debris.
	if err := env.App.DB.Gorm.Exec(`CREATE SCHEMA ` + tn.Schema + `; CREATE TABLE ` + tn.Schema + `.users (x int)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := env.App.Provision.Provision(ctx, tn.ID); err == nil {
		t.Fatal("provisioning must fail while the schema is broken")
	}
	p, _ := env.App.Provision.Progress(ctx, tn.ID)
	if p.Status != "provisioning" || p.Step != "schema" || p.LastError == "" || p.Attempts != 1 {
		t.Fatalf("failure not visible: %+v", p)
	}
	if strings.Contains(p.LastError, "13800000006") {
		t.Fatal("provisioning error leaks the owner's phone")
	}
	if err := env.App.DB.Gorm.Exec(`DROP TABLE ` + tn.Schema + `.users`).Error; err != nil {
		t.Fatal(err)
	}
	// Re-running the CLI command resumes it.
	var out strings.Builder
	if err := env.App.CreateTenant(ctx, &out, provision.Request{Slug: "zeta", Name: "Zeta", OwnerPhone: "13800000006"}, 30*time.Second, true); err != nil {
		t.Fatalf("resume: %v (%s)", err, out.String())
	}
	if !strings.Contains(out.String(), "resuming") || !strings.Contains(out.String(), "active") {
		t.Fatalf("resume output: %s", out.String())
	}
	if err := env.App.Provision.Provision(ctx, tn.ID); err != nil {
		t.Fatalf("provisioning an active tenant again: %v", err)
	}
	env.Login("zeta", "13800000006")
	// The owner's contact is no longer kept in the control plane once the owner exists.
	var n int64
	env.App.DB.Gorm.Raw(`SELECT count(*) FROM public.tenant_provisioning WHERE tenant_id = ? AND owner_phone_enc IS NOT NULL`, tn.ID).Scan(&n)
	if n != 0 {
		t.Fatal("owner phone kept after provisioning")
	}
}

func TestRegisterRefusesBadRequests(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("taken", "13800000007")
	ctx := context.Background()
	for name, req := range map[string]provision.Request{
		"reserved":      {Slug: "admin", Name: "x", OwnerPhone: "13800000000"},
		"malformed":     {Slug: "Bad_Slug", Name: "x", OwnerPhone: "13800000000"},
		"taken":         {Slug: "taken", Name: "x", OwnerPhone: "13800000000"},
		"bad phone":     {Slug: "fresh", Name: "x", OwnerPhone: "555-0100"},
		"bad blueprint": {Slug: "fresh", Name: "x", OwnerPhone: "13800000000", Blueprint: "nope"},
		"empty name":    {Slug: "fresh", Name: "", OwnerPhone: "13800000000"},
	} {
		if _, err := env.App.Provision.Register(ctx, req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := env.App.Registry.BySlug(ctx, "fresh"); err == nil {
		t.Fatal("a refused registration left a tenant behind")
	}
}

// A raw dump of a tenant's schema must not contain any phone number in clear: phones and
// names are AEAD ciphertexts, looked up by a keyed blind index, and the keys live elsewhere.
func TestTenantDumpHoldsNoClearPhones(t *testing.T) {
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Fatal("pg_dump is needed for this check (Debian package postgresql-client)")
	}
	env := apptest.New(t)
	tn := env.Tenant("dumpme", "13800000008", "demo")
	owner := env.Login("dumpme", "13800000008")
	env.Do(env.Host("dumpme"), "POST", "/api/v1/staff/roles", owner.AccessToken, map[string]string{"phone": "13655556666", "name": "王小明", "role": "support"})
	env.Login("dumpme", "13912121212")

	out, err := exec.Command(pgDump, "--schema="+tn.Schema, "--data-only", "--inserts", env.DBURL).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	dump := string(out)
	if !strings.Contains(dump, "INSERT INTO "+tn.Schema+".users") {
		t.Fatalf("dump has no users rows; the check would be blind:\n%s", dump[:min(len(dump), 2000)])
	}
	for _, phone := range []string{"13800000008", "13655556666", "13912121212", "13800000000", "13900000001"} {
		if strings.Contains(dump, phone) {
			t.Errorf("dump of %s contains phone %s in clear", tn.Schema, phone)
		}
	}
	for _, name := range []string{"王小明", "演示店长", "学生张三"} {
		if strings.Contains(dump, name) {
			t.Errorf("dump of %s contains name %s in clear", tn.Schema, name)
		}
	}
}

func TestPlatformAdminsSeeJobHealthByRole(t *testing.T) {
	env := apptest.New(t)
	host := env.PlatformHost()
	owner := env.PlatformLogin("owner@paotui.test", "owner-password", "owner")
	support := env.PlatformLogin("support@paotui.test", "support-password", "support")
	finance := env.PlatformLogin("finance@paotui.test", "finance-password", "finance")

	r := env.Do(host, "GET", "/api/v1/platform/jobs", owner, nil)
	var health struct {
		Queues []struct {
			Queue    string `json:"queue"`
			Archived int    `json:"archived"`
		} `json:"queues"`
		OutboxPending int64 `json:"outboxPending"`
	}
	r.JSON(t, &health)
	if r.Status != 200 || len(health.Queues) != 3 {
		t.Fatalf("owner: %d %s", r.Status, r.Body)
	}
	if r := env.Do(host, "GET", "/api/v1/platform/jobs", support, nil); r.Status != 200 {
		t.Fatalf("support: %d %s", r.Status, r.Body)
	}
	if r := env.Do(host, "GET", "/api/v1/platform/jobs", finance, nil); r.Status != http.StatusForbidden {
		t.Fatalf("finance must not read job health: %d %s", r.Status, r.Body)
	}
	// Platform tokens do not open tenant hosts, and platform operations do not exist there.
	env.Tenant("plat", "13800000009")
	if r := env.Do(env.Host("plat"), "GET", "/api/v1/me", owner, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("platform token on tenant host: %d", r.Status)
	}
	if r := env.Do(env.Host("plat"), "POST", "/api/v1/platform/auth/login", "", map[string]string{"email": "owner@paotui.test", "password": "owner-password"}); r.Status != http.StatusNotFound {
		t.Fatalf("platform login on a tenant host: %d", r.Status)
	}
}

func TestVerifiedCustomDomainResolves(t *testing.T) {
	env := apptest.New(t)
	tn := env.Tenant("custom", "13800000010")
	db := env.App.DB.Gorm
	if err := db.Exec(`INSERT INTO public.tenant_domains (domain, tenant_id, txt_token) VALUES ('paotui.campus.example', ?, 't')`, tn.ID).Error; err != nil {
		t.Fatal(err)
	}
	if r := env.Do("paotui.campus.example", "POST", "/api/v1/auth/sms-code", "", map[string]string{"phone": "13800000010"}); r.Status != http.StatusNotFound {
		t.Fatalf("unverified domain must not resolve: %d %s", r.Status, r.Body)
	}
	if err := db.Exec(`UPDATE public.tenant_domains SET verified_at = now() WHERE domain = 'paotui.campus.example'`).Error; err != nil {
		t.Fatal(err)
	}
	_ = env.App.Resolver.Invalidate(context.Background(), tn.ID)
	if r := env.Do("PAOTUI.campus.example:8080", "POST", "/api/v1/auth/sms-code", "", map[string]string{"phone": "13800000010"}); r.Status != http.StatusAccepted {
		t.Fatalf("verified domain: %d %s", r.Status, r.Body)
	}
	// The header names a tenant on the base host (native clients); it may not contradict a tenant host.
	req := env.DoWithHeader("localhost", "POST", "/api/v1/auth/sms-code", map[string]string{"X-Paotui-Tenant": "custom"}, map[string]string{"phone": "13800000011"})
	if req.Status != http.StatusAccepted {
		t.Fatalf("X-Paotui-Tenant on base host: %d %s", req.Status, req.Body)
	}
	env.Tenant("other", "13800000012")
	req = env.DoWithHeader(env.Host("other"), "POST", "/api/v1/auth/sms-code", map[string]string{"X-Paotui-Tenant": "custom"}, map[string]string{"phone": "13800000011"})
	if req.Status != http.StatusBadRequest || req.Problem(t).Code != "tenant_mismatch" {
		t.Fatalf("mismatching header: %d %s", req.Status, req.Body)
	}
}

func TestMigrateStatusShowsLaggingTenants(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("current", "13800000013")
	behind := env.Tenant("behind", "13800000014")
	// Pretend "behind" never got its latest migration.
	latest, _ := env.App.Migrator.LatestTenantVersion()
	if err := env.App.DB.Gorm.Exec(`DELETE FROM `+behind.Schema+`.goose_db_version WHERE version_id = ?`, latest).Error; err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := env.App.MigrateStatus(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	var behindLine, currentLine string
	for _, l := range lines {
		switch {
		case strings.Contains(l, " behind "):
			behindLine = l
		case strings.Contains(l, " current "):
			currentLine = l
		}
	}
	if !strings.Contains(behindLine, "LAGGING") || strings.Contains(currentLine, "LAGGING") || !strings.Contains(out.String(), "1 schema(s) lagging") {
		t.Fatalf("status output:\n%s", out.String())
	}
}

// A new tenant starts with its blueprint's task types, places, zone and service hours in
// their own tables.
func TestProvisionedTenantHasItsCatalog(t *testing.T) {
	env := apptest.New(t)
	tn := env.Tenant("catalogued", "13800000015", "demo")
	var types, placeCount, zones, hours int64
	err := env.App.DB.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		tx.Raw(`SELECT count(*) FROM task_types`).Scan(&types)
		tx.Raw(`SELECT count(*) FROM places`).Scan(&placeCount)
		tx.Raw(`SELECT count(*) FROM zones`).Scan(&zones)
		return tx.Raw(`SELECT count(*) FROM service_hours`).Scan(&hours).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if types != 4 || placeCount != 20 || zones != 1 || hours != 7 {
		t.Fatalf("task types %d, places %d, zones %d, hour windows %d; want 4, 20, 1, 7", types, placeCount, zones, hours)
	}
}

func TestLedgerCheckCommand(t *testing.T) {
	env := apptest.New(t)
	tn := env.Tenant("books", "13800000016")
	ctx := context.Background()
	var out strings.Builder
	if err := env.App.CheckLedgers(ctx, &out, "books"); err != nil || !strings.Contains(out.String(), "books: ") || !strings.Contains(out.String(), "clean") {
		t.Fatalf("fresh ledger: %v %s", err, out.String())
	}
	err := env.App.DB.InTenant(ctx, tn, func(tx *gorm.DB) error {
		_, err := ledger.Post(tx, ledger.Journal{Kind: ledger.TopUp, Ref: "test", Actor: "test", Entries: []ledger.Entry{
			{Account: ledger.Clearing("offline"), Amount: -500}, {Account: ledger.Wallet("u1"), Amount: 500},
		}})
		if err != nil {
			return err
		}
		return tx.Exec(`UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'wallet'`).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := env.App.CheckLedgers(ctx, &out, ""); err == nil || !strings.Contains(out.String(), "problems") {
		t.Fatalf("tampered ledger passed: %v %s", err, out.String())
	}
}
