package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
)

// runWorker runs the application's worker (jobs, outbox relay, scheduler) until the test ends.
func runWorker(t *testing.T, env *apptest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.App.RunWorker(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
}

type exportView struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	SizeBytes   int64      `json:"sizeBytes"`
	Tables      int        `json:"tables"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	DownloadURL string     `json:"downloadUrl"`
}

// awaitExport polls get-tenant-export until the export is ready.
func awaitExport(t *testing.T, env *apptest.Env, host, token, id string) exportView {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := env.Do(host, "GET", "/api/v1/admin/exports/"+id, token, nil)
		var v exportView
		r.JSON(t, &v)
		if r.Status != http.StatusOK || v.Status == "failed" {
			t.Fatalf("get-tenant-export: %d %s", r.Status, r.Body)
		}
		if v.Status == "ready" {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("export %s still %s after 30s; is the worker running?", id, v.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func requestExport(t *testing.T, env *apptest.Env, host, token string) exportView {
	t.Helper()
	r := env.Do(host, "POST", "/api/v1/admin/exports", token, nil)
	var v exportView
	r.JSON(t, &v)
	if r.Status != http.StatusAccepted || v.ID == "" {
		t.Fatalf("export-tenant-data: %d %s", r.Status, r.Body)
	}
	return v
}

// The owner of the demo campus exports everything: every table as JSON and CSV with the
// database's row counts, personal data decrypted and blind indexes left out; an admin may not;
// the download is audited and gone once the export expires; a paused service can still export.
func TestTenantDataExport(t *testing.T) {
	e := newErrandEnv(t)
	o := e.placeOrder(t, 200)
	runWorker(t, e.Env)
	tn := e.tenant(t)

	r := e.Do(e.host, "POST", "/api/v1/staff/roles", e.owner.AccessToken, map[string]string{"phone": "13612340000", "role": "admin", "name": "管理员"})
	if r.Status != http.StatusOK {
		t.Fatalf("grant admin: %d %s", r.Status, r.Body)
	}
	admin := e.Login("campus", "13612340000")
	for _, c := range []struct{ method, path string }{{"POST", "/api/v1/admin/exports"}, {"GET", "/api/v1/admin/exports"},
		{"POST", "/api/v1/admin/tenant/deletion"}} {
		r := e.Do(e.host, c.method, c.path, admin.AccessToken, map[string]string{"confirmSlug": "campus"})
		if r.Status != http.StatusForbidden || r.Problem(t).Code != "permission_denied" {
			t.Errorf("admin %s %s: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}

	ex := requestExport(t, e.Env, e.host, e.owner.AccessToken)
	ready := awaitExport(t, e.Env, e.host, e.owner.AccessToken, ex.ID)
	if ready.DownloadURL != "/api/v1/admin/exports/"+ex.ID+"/download" || ready.SizeBytes == 0 || ready.ExpiresAt == nil {
		t.Fatalf("ready export: %+v", ready)
	}
	// Row counts now, before the download writes its audit entry.
	counts := map[string]int64{}
	for _, table := range []string{"users", "orders", "order_events", "courier_profiles", "places", "ledger_entries", "ledger_journals", "casbin_rules", "settings"} {
		var n int64
		if err := e.App.DB.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT count(*) FROM ` + store.QuoteIdent(table)).Scan(&n).Error
		}); err != nil {
			t.Fatal(err)
		}
		if n == 0 && table != "order_events" {
			t.Fatalf("the demo campus has no %s; the check would be blind", table)
		}
		counts[table] = n
	}

	r = e.Do(e.host, "GET", ready.DownloadURL, e.owner.AccessToken, nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/zip" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), `attachment; filename="paotui-campus-`) {
		t.Fatalf("download: %d %v %.300s", r.Status, r.Header, r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	var m struct {
		Tenant struct{ Slug string }
		Tables []struct {
			Name string
			Rows int64
		}
		DecryptedColumns []string
		Undecryptable    map[string]int64
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Tenant.Slug != "campus" || len(m.Tables) != ready.Tables || len(m.Undecryptable) != 0 {
		t.Fatalf("manifest: %s", files["manifest.json"])
	}
	manifestRows := map[string]int64{}
	for _, mt := range m.Tables {
		manifestRows[mt.Name] = mt.Rows
		var rows []json.RawMessage
		if err := json.Unmarshal(files[mt.Name+".json"], &rows); err != nil {
			t.Fatalf("%s.json: %v", mt.Name, err)
		}
		recs, err := csv.NewReader(bytes.NewReader(files[mt.Name+".csv"])).ReadAll()
		if err != nil {
			t.Fatalf("%s.csv: %v", mt.Name, err)
		}
		if int64(len(rows)) != mt.Rows || int64(len(recs)-1) != mt.Rows {
			t.Errorf("%s: manifest %d rows, json %d, csv %d", mt.Name, mt.Rows, len(rows), len(recs)-1)
		}
	}
	for table, n := range counts {
		if got, ok := manifestRows[table]; !ok || got != n {
			t.Errorf("%s: %d rows in the database, %d (listed %v) in the export", table, n, got, ok)
		}
	}
	all := string(bytes.Join([][]byte{files["users.json"], files["users.csv"], files["orders.json"], files["courier_profiles.json"]}, nil))
	for _, clear := range []string{"13900000001", "学生张三", "13612340000", parcelPickupCode, o.DeliveryCode, "跑腿员王五"} {
		if !strings.Contains(all, clear) {
			t.Errorf("the export does not hold %q in clear", clear)
		}
	}
	for _, sealed := range []string{"phone_bidx", "phone_enc", "form_enc", "student_no_bidx"} {
		if strings.Contains(all, `"`+sealed+`"`) || strings.Contains(string(files["users.csv"]), sealed) {
			t.Errorf("the export still has column %s", sealed)
		}
	}

	r = e.Do(e.host, "GET", "/api/v1/audit-log?limit=100", e.owner.AccessToken, nil)
	for _, action := range []string{"data.export.request", "data.export.download"} {
		if !strings.Contains(string(r.Body), `"action":"`+action+`"`) {
			t.Errorf("audit log lacks %s", action)
		}
	}

	// Past its expiry the archive is gone, whether or not the sweep has run yet.
	if err := e.App.DB.Gorm.Exec(`UPDATE public.tenant_exports SET expires_at = now() - interval '1 second' WHERE id = ?`, ex.ID).Error; err != nil {
		t.Fatal(err)
	}
	r = e.Do(e.host, "GET", ready.DownloadURL, e.owner.AccessToken, nil)
	if r.Status != http.StatusGone || r.Problem(t).Code != "export_expired" {
		t.Fatalf("download after expiry: %d %s", r.Status, r.Body)
	}
	if err := e.App.Lifecycle.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.App.Files.Open(context.Background(), fmt.Sprintf("exports/%d/%s.zip", tn.ID, ex.ID)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the expired archive is still stored: %v", err)
	}
	r = e.Do(e.host, "GET", "/api/v1/admin/exports", e.owner.AccessToken, nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"status":"expired"`) {
		t.Errorf("list after expiry: %d %s", r.Status, r.Body)
	}

	// A paused service can still take its data.
	if _, err := e.App.SetTenantStatus(context.Background(), "campus", tenancy.StatusSuspended, "unpaid", "test"); err != nil {
		t.Fatal(err)
	}
	if r := e.Do(e.host, "GET", "/api/v1/admin/orders", e.owner.AccessToken, nil); r.Status != http.StatusForbidden || r.Problem(t).Code != "tenant_suspended" {
		t.Fatalf("list-orders while paused: %d %s", r.Status, r.Body)
	}
	paused := requestExport(t, e.Env, e.host, e.owner.AccessToken)
	v := awaitExport(t, e.Env, e.host, e.owner.AccessToken, paused.ID)
	if r := e.Do(e.host, "GET", v.DownloadURL, e.owner.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("download while paused: %d %.300s", r.Status, r.Body)
	}
}

type deletionView struct {
	TenantID    int64     `json:"tenantId"`
	Status      string    `json:"status"`
	DeleteAfter time.Time `json:"deleteAfter"`
}

// The owner deletes the service: paused at once, gone after the (here one-second) grace:
// schema dropped, keys and domains removed, export files removed, the subdomain still taken.
// A platform deletion of another tenant is restored during its grace, and its purge then does
// nothing.
func TestTenantDeletion(t *testing.T) {
	env := apptest.New(t, "PAOTUI_TENANCY_DELETION_GRACE=1s")
	ctx := context.Background()
	leaving, staying := env.Tenant("leaving", "13800000010"), env.Tenant("staying", "13800000020")
	if err := env.App.DB.Gorm.Exec(`INSERT INTO public.tenant_domains (domain, tenant_id, txt_token, verified_at)
		VALUES ('run.leaving.example.edu', ?, 'token', now())`, leaving.ID).Error; err != nil {
		t.Fatal(err)
	}
	platform := env.PlatformHost()
	powner := env.PlatformLogin("owner@paotui.test", "owner-password", "owner")
	support := env.PlatformLogin("support@paotui.test", "support-password", "support")
	stayingHost := env.Host("staying")
	stayingOwner := env.Login("staying", "13800000020")
	deletePath := fmt.Sprintf("/api/v1/platform/tenants/%d/delete", staying.ID)

	// Platform deletion, then a restore within the grace, before any worker could purge.
	if r := env.Do(platform, "POST", deletePath, support, map[string]string{"reason": "abuse"}); r.Status != http.StatusForbidden {
		t.Fatalf("support deleting a tenant: %d %s", r.Status, r.Body)
	}
	if r := env.Do(platform, "POST", deletePath, powner, map[string]string{"reason": " "}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("blank reason: %d %s", r.Status, r.Body)
	}
	r := env.Do(platform, "POST", deletePath, powner, map[string]string{"reason": "the school asked"})
	var dv deletionView
	r.JSON(t, &dv)
	if r.Status != http.StatusAccepted || dv.Status != "suspended" || dv.DeleteAfter.IsZero() {
		t.Fatalf("delete-tenant: %d %s", r.Status, r.Body)
	}
	if r := env.Do(stayingHost, "GET", "/api/v1/users", stayingOwner.AccessToken, nil); r.Status != http.StatusForbidden || r.Problem(t).Code != "tenant_suspended" {
		t.Fatalf("host of a tenant pending deletion: %d %s", r.Status, r.Body)
	}
	r = env.Do(platform, "POST", fmt.Sprintf("/api/v1/platform/tenants/%d/resume", staying.ID), powner, map[string]string{"reason": "restored on request"})
	if r.Status != http.StatusOK {
		t.Fatalf("resume-tenant: %d %s", r.Status, r.Body)
	}
	if r := env.Do(stayingHost, "GET", "/api/v1/users", stayingOwner.AccessToken, nil); r.Status != http.StatusOK {
		t.Fatalf("restored host: %d %s", r.Status, r.Body)
	}
	var meta string
	env.App.DB.Gorm.Raw(`SELECT meta::text FROM public.platform_audit_log WHERE tenant_id = ? AND action = 'tenant.active'`, staying.ID).Scan(&meta)
	if !strings.Contains(meta, `"deletionCancelled": true`) {
		t.Errorf("the restore's audit entry does not say the deletion was cancelled: %s", meta)
	}

	runWorker(t, env)
	host := env.Host("leaving")
	owner := env.Login("leaving", "13800000010")
	ex := requestExport(t, env, host, owner.AccessToken)
	awaitExport(t, env, host, owner.AccessToken, ex.ID)

	r = env.Do(host, "POST", "/api/v1/admin/tenant/deletion", owner.AccessToken, map[string]string{"confirmSlug": "staying"})
	if r.Status != http.StatusUnprocessableEntity || r.Problem(t).Code != "confirmation_mismatch" {
		t.Fatalf("wrong confirmSlug: %d %s", r.Status, r.Body)
	}
	r = env.Do(host, "POST", "/api/v1/admin/tenant/deletion", owner.AccessToken, map[string]string{"confirmSlug": "leaving", "reason": "graduating"})
	r.JSON(t, &dv)
	if r.Status != http.StatusAccepted || dv.TenantID != leaving.ID || dv.Status != "suspended" {
		t.Fatalf("request-tenant-deletion: %d %s", r.Status, r.Body)
	}
	if r := env.Do(host, "GET", "/api/v1/users", owner.AccessToken, nil); r.Status != http.StatusForbidden || r.Problem(t).Code != "tenant_suspended" {
		t.Fatalf("host right after the request: %d %s", r.Status, r.Body)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := env.App.Registry.ByID(ctx, leaving.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == tenancy.StatusDeleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant still %s/%s 30s after a 1s grace", got.Status, got.Hold)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var schemas, keys, domains int64
	env.App.DB.Gorm.Raw(`SELECT count(*) FROM pg_namespace WHERE nspname = ?`, leaving.Schema).Scan(&schemas)
	env.App.DB.Gorm.Raw(`SELECT count(*) FROM public.tenant_keys WHERE tenant_id = ?`, leaving.ID).Scan(&keys)
	env.App.DB.Gorm.Raw(`SELECT count(*) FROM public.tenant_domains WHERE tenant_id = ?`, leaving.ID).Scan(&domains)
	if schemas != 0 || keys != 0 || domains != 0 {
		t.Errorf("after the purge: %d schemas, %d keysets, %d domains left", schemas, keys, domains)
	}
	// Files go after the commit that made the tombstone, and the host's cached entry is
	// invalidated then too: wait for both rather than racing them.
	for {
		_, _, ferr := env.App.Files.Open(ctx, fmt.Sprintf("exports/%d/%s.zip", leaving.ID, ex.ID))
		r := env.Do(host, "GET", "/api/v1/branding", "", nil)
		if errors.Is(ferr, storage.ErrNotFound) && r.Status == http.StatusGone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the purge: export file %v, host %d %s", ferr, r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r = env.Do("localhost", "GET", "/api/v1/signup/subdomains/leaving", "", nil)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"reason":"taken"`) {
		t.Errorf("check-subdomain of a deleted tenant: %d %s", r.Status, r.Body)
	}
	if r := env.Do(host, "GET", "/api/v1/branding", "", nil); r.Status != http.StatusGone || r.Problem(t).Code != "tenant_deleted" {
		t.Errorf("host of the deleted tenant: %d %s", r.Status, r.Body)
	}
	var actions []string
	env.App.DB.Gorm.Raw(`SELECT action FROM public.platform_audit_log WHERE tenant_id = ? ORDER BY id`, leaving.ID).Scan(&actions)
	if got := strings.Join(actions, ","); !strings.Contains(got, "tenant.deletion_requested,tenant.deleted") {
		t.Errorf("platform audit of the deleted tenant: %s", got)
	}

	// The restored tenant's purge was due long ago; it must find nothing to do.
	var pending int64
	env.App.DB.Gorm.Raw(`SELECT count(*) FROM public.outbox WHERE tenant_id = ? AND task_type = 'lifecycle:purge'`, staying.ID).Scan(&pending)
	if pending != 1 {
		t.Fatalf("%d purge tasks were scheduled for the restored tenant; want 1", pending)
	}
	if purged, err := env.App.Lifecycle.Purge(ctx, staying.ID); err != nil || purged {
		t.Fatalf("purge of the restored tenant: %v, %v", purged, err)
	}
	got, err := env.App.Registry.ByID(ctx, staying.ID)
	env.App.DB.Gorm.Raw(`SELECT count(*) FROM pg_namespace WHERE nspname = ?`, staying.Schema).Scan(&schemas)
	if err != nil || got.Status != tenancy.StatusActive || got.DeleteAfter != nil || schemas != 1 {
		t.Fatalf("restored tenant: %+v, %v, schema present %d", got, err, schemas)
	}
}
