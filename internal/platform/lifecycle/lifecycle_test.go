package lifecycle

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/pii"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
)

type countingHosts struct{ n atomic.Int64 }

func (h *countingHosts) Invalidate(context.Context, int64) error { h.n.Add(1); return nil }

type fakeBilling struct{ cancelled []int64 }

func (b *fakeBilling) CancelForDeletion(_ context.Context, id int64) error {
	b.cancelled = append(b.cancelled, id)
	return nil
}

type env struct {
	db    *store.DB
	url   string
	reg   *tenancy.Registry
	keys  *pii.Keyring
	files storage.Store
	hosts *countingHosts
	s     *Service
	clock time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, d := storetest.New(t)
	master := make([]byte, pii.MasterKeySize)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.NewKeyring(db.Gorm, master)
	if err != nil {
		t.Fatal(err)
	}
	files, err := storage.Local(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, url: d.URL, reg: tenancy.NewRegistry(db.Gorm, nil), keys: keys, files: files,
		hosts: &countingHosts{}, clock: time.Now().UTC()}
	e.s = New(db, e.reg, e.hosts, keys, files, jobs.NewOutbox(),
		config.Tenancy{DeletionGrace: 7 * 24 * time.Hour, ExportTTL: 72 * time.Hour}, slog.New(slog.DiscardHandler))
	e.s.now = func() time.Time { return e.clock }
	e.s.tmpDir = t.TempDir()
	return e
}

// tenant registers an active tenant with keys and a migrated schema, as provisioning leaves it.
func (e *env) tenant(t *testing.T, slug string) *tenancy.Tenant {
	t.Helper()
	ctx := context.Background()
	var tn *tenancy.Tenant
	err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		var err error
		if tn, err = e.reg.Insert(tx, slug, slug); err != nil {
			return err
		}
		if err := e.keys.CreateKeys(tx, tn.ID); err != nil {
			return err
		}
		tn, err = e.reg.SetStatus(tx, tn.ID, tenancy.StatusActive, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.NewMigrator(e.url, 1, nil).UpTenant(ctx, tn.Schema); err != nil {
		t.Fatal(err)
	}
	return tn
}

func (e *env) inTenant(t *testing.T, tn *tenancy.Tenant, sql string, args ...any) {
	t.Helper()
	if err := e.db.InTenant(context.Background(), tn, func(tx *gorm.DB) error { return tx.Exec(sql, args...).Error }); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) schemaExists(t *testing.T, schema string) bool {
	t.Helper()
	var n int64
	if err := e.db.Gorm.Raw(`SELECT count(*) FROM pg_namespace WHERE nspname = ?`, schema).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// A migration that adds a sealed column must teach the export its pii field, or the owner's
// archive would carry ciphertext they cannot read; and no entry may name a column that is gone.
func TestEverySealedColumnIsKnown(t *testing.T) {
	e := newEnv(t)
	tn := e.tenant(t, "sealed")
	var cols []string
	err := e.db.Gorm.Raw(`SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = ? AND column_name LIKE '%\_enc' ORDER BY 1`, tn.Schema).Scan(&cols).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) < 5 {
		t.Fatalf("found only %v sealed columns; the check would be blind", cols)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c] = true
		if _, ok := sealedFields[c]; !ok {
			t.Errorf("sealed column %s has no pii field in sealedFields", c)
		}
	}
	for c := range sealedFields {
		if !seen[c] {
			t.Errorf("sealedFields names %s, which the tenant schema does not have", c)
		}
	}
}

type archiveFiles map[string][]byte

func readArchive(t *testing.T, r io.Reader) archiveFiles {
	t.Helper()
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	out := archiveFiles{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func (a archiveFiles) rows(t *testing.T, table string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(a[table+".json"]))
	dec.UseNumber()
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("%s.json: %v", table, err)
	}
	return rows
}

func (a archiveFiles) csv(t *testing.T, table string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(a[table+".csv"])).ReadAll()
	if err != nil {
		t.Fatalf("%s.csv: %v", table, err)
	}
	return recs
}

func TestExportArchive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tn := e.tenant(t, "exporter")
	c, err := e.keys.For(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(field, v string) []byte {
		b, err := c.Encrypt(field, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	alice, broken := uuid.NewString(), uuid.NewString()
	e.inTenant(t, tn, `INSERT INTO users (id, phone_enc, phone_bidx, name_enc) VALUES (?, ?, ?, ?)`,
		alice, seal("users.phone", "13812345678"), c.BlindIndex("users.phone", "13812345678"), seal("users.name", "王小明"))
	// Sealed for the wrong field: must not open, and must not stop the export.
	e.inTenant(t, tn, `INSERT INTO users (id, phone_enc, phone_bidx) VALUES (?, ?, ?)`,
		broken, seal("users.name", "13800000000"), c.BlindIndex("users.phone", "13800000000"))
	// A table of the tenant's own the export has never heard of: exported all the same, with a
	// sealed-looking column kept as stored.
	e.inTenant(t, tn, `CREATE TABLE extras (id bigint PRIMARY KEY, note text, doc jsonb, blob bytea, secret_enc bytea, gone text)`)
	e.inTenant(t, tn, `INSERT INTO extras VALUES (9007199254740993, ?, '{"k": [1, "<&>"]}', '\x00ff', '\xdead', NULL), (2, NULL, NULL, NULL, NULL, 'x')`,
		"a, \"quoted\"\nsecond line")

	ex, created, err := e.s.RequestExport(ctx, tn, audit.Entry{Actor: "user:owner", IP: "192.0.2.1"})
	if err != nil || !created || ex.Status != ExportQueued {
		t.Fatalf("RequestExport = %+v, %v, %v", ex, created, err)
	}
	again, created, err := e.s.RequestExport(ctx, tn, audit.Entry{Actor: "user:owner"})
	if err != nil || created || again.ID != ex.ID {
		t.Fatalf("second RequestExport while queued = %+v, %v, %v; want the first", again, created, err)
	}
	if _, err := e.s.OpenDownload(ctx, tn, ex.ID, audit.Entry{Actor: "user:owner"}); !errors.Is(err, ErrExportNotReady) {
		t.Fatalf("download while queued: %v", err)
	}
	if err := e.s.RunExport(ctx, tn, ex.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Export(ctx, tn, ex.ID)
	if err != nil || got.Status != ExportReady || got.SizeBytes == 0 || got.ExpiresAt == nil ||
		!got.ExpiresAt.Equal(got.FinishedAt.Add(72*time.Hour)) {
		t.Fatalf("after RunExport: %+v, %v", got, err)
	}
	// Counted before the download, which adds an audit entry.
	var dbTables []string
	if err := e.db.Gorm.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = ? AND tablename <> 'goose_db_version' ORDER BY 1`,
		tn.Schema).Scan(&dbTables).Error; err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, name := range dbTables {
		var n int64
		if err := e.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT count(*) FROM ` + store.QuoteIdent(name)).Scan(&n).Error
		}); err != nil {
			t.Fatal(err)
		}
		counts[name] = n
	}
	d, err := e.s.OpenDownload(ctx, tn, ex.ID, audit.Entry{Actor: "user:owner", IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	arc := readArchive(t, d)
	d.Close()

	var m Manifest
	if err := json.Unmarshal(arc["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Format != ManifestFormat || m.Tenant.Slug != "exporter" || m.ExportID != ex.ID {
		t.Fatalf("manifest head: %+v", m)
	}
	if len(m.Tables) != len(dbTables) || len(dbTables) < 20 {
		t.Fatalf("manifest lists %d tables, the schema has %d", len(m.Tables), len(dbTables))
	}
	for i, mt := range m.Tables {
		if mt.Name != dbTables[i] {
			t.Fatalf("table %d: manifest %s, schema %s", i, mt.Name, dbTables[i])
		}
		n := counts[mt.Name]
		rows, recs := arc.rows(t, mt.Name), arc.csv(t, mt.Name)
		if mt.Rows != n || int64(len(rows)) != n || int64(len(recs)-1) != n {
			t.Errorf("%s: database %d rows, manifest %d, json %d, csv %d", mt.Name, n, mt.Rows, len(rows), len(recs)-1)
		}
		if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(mt.Columns, ",") {
			t.Errorf("%s.csv header %v, manifest columns %v", mt.Name, recs, mt.Columns)
		}
	}
	if _, ok := arc["goose_db_version.json"]; ok {
		t.Error("the archive holds goose's version table")
	}

	users := map[string]map[string]any{}
	for _, u := range arc.rows(t, "users") {
		users[u["id"].(string)] = u
		for _, k := range []string{"phone_enc", "phone_bidx", "name_enc"} {
			if _, ok := u[k]; ok {
				t.Errorf("users.json row has %s: %v", k, u)
			}
		}
	}
	if u := users[alice]; u["phone"] != "13812345678" || u["name"] != "王小明" {
		t.Errorf("alice exported as %v; want her phone and name decrypted", u)
	}
	if u := users[broken]; u["phone"] != nil {
		t.Errorf("a value sealed for another field exported as %v; want null", u["phone"])
	}
	if m.Undecryptable["users.phone_enc"] != 1 {
		t.Errorf("undecryptable = %v; want users.phone_enc: 1", m.Undecryptable)
	}
	if !strings.Contains(string(arc["users.csv"]), "13812345678") || strings.Contains(string(arc["users.csv"]), "phone_bidx") {
		t.Errorf("users.csv: %s", arc["users.csv"])
	}
	for _, want := range []string{"users.phone_enc -> phone", "users.name_enc -> name", "courier_profiles.real_name_enc -> real_name"} {
		if !strings.Contains(strings.Join(m.DecryptedColumns, "|"), want) {
			t.Errorf("manifest decryptedColumns %v lacks %q", m.DecryptedColumns, want)
		}
	}
	if strings.Join(m.OmittedColumns, ",") != "courier_profiles.student_no_bidx,users.phone_bidx" {
		t.Errorf("omittedColumns = %v", m.OmittedColumns)
	}
	if strings.Join(m.SealedAsStored, ",") != "extras.secret_enc" {
		t.Errorf("sealedAsStored = %v", m.SealedAsStored)
	}

	extras := arc.rows(t, "extras")
	var big map[string]any
	for _, r := range extras {
		if r["id"].(json.Number).String() == "9007199254740993" {
			big = r
		}
	}
	if big == nil {
		t.Fatalf("a bigint beyond 2^53 lost precision: %s", arc["extras.json"])
	}
	if big["note"] != "a, \"quoted\"\nsecond line" || big["blob"] != `\x00ff` || big["secret_enc"] != `\xdead` {
		t.Errorf("extras row: %v", big)
	}
	if !strings.Contains(string(arc["extras.json"]), `"<&>"`) {
		t.Errorf("extras.json escaped <&>: %s", arc["extras.json"])
	}
	recs := arc.csv(t, "extras")
	header := strings.Join(recs[0], ",")
	if header != "id,note,doc,blob,secret_enc,gone" {
		t.Fatalf("extras.csv header %q", header)
	}
	var csvBig, csvSmall []string
	for _, r := range recs[1:] {
		if r[0] == "9007199254740993" {
			csvBig = r
		} else {
			csvSmall = r
		}
	}
	if csvBig == nil || csvBig[1] != "a, \"quoted\"\nsecond line" || !strings.HasPrefix(csvBig[2], `{"k"`) || csvBig[5] != "" {
		t.Errorf("extras.csv row %q", csvBig)
	}
	if csvSmall == nil || csvSmall[1] != "" || csvSmall[5] != "x" {
		t.Errorf("extras.csv row with nulls %q", csvSmall)
	}

	var actions []string
	if err := e.db.InTenant(ctx, tn, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT action FROM audit_log WHERE target = ? ORDER BY id`, "export:"+ex.ID).Scan(&actions).Error
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(actions, ",") != "data.export.request,data.export.download" {
		t.Errorf("tenant audit for the export: %v", actions)
	}
}

func TestExportExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tn := e.tenant(t, "expiring")
	ex, _, err := e.s.RequestExport(ctx, tn, audit.Entry{Actor: "user:owner"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.RunExport(ctx, tn, ex.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.Export(ctx, tn, ex.ID)
	e.clock = got.ExpiresAt.Add(time.Second)
	// Past its expiry the export is gone for the owner before the sweep has run.
	if _, err := e.s.OpenDownload(ctx, tn, ex.ID, audit.Entry{Actor: "user:owner"}); !errors.Is(err, ErrExportExpired) {
		t.Fatalf("download after expiry: %v", err)
	}
	if err := e.s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = e.s.Export(ctx, tn, ex.ID)
	if got.Status != ExportExpired || got.FileKey != "" {
		t.Fatalf("after the sweep: %+v", got)
	}
	if _, _, err := e.files.Open(ctx, exportKey(tn.ID, ex.ID)); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the expired file is still stored: %v", err)
	}
	// The slot is free again.
	if _, created, err := e.s.RequestExport(ctx, tn, audit.Entry{Actor: "user:owner"}); err != nil || !created {
		t.Fatalf("new export after expiry: %v, %v", created, err)
	}
}

func TestPurgeWaitsForTheGraceAndHonoursARestore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	billing := &fakeBilling{}
	e.s.WithBilling(billing)
	doomed, kept := e.tenant(t, "doomed"), e.tenant(t, "kept")
	if err := e.db.Gorm.Exec(`INSERT INTO public.tenant_domains (domain, tenant_id, txt_token, verified_at) VALUES ('run.example.edu', ?, 't', now())`,
		doomed.ID).Error; err != nil {
		t.Fatal(err)
	}
	// The tenant's other files (logo, delivery photos) live under t/<id>/; the kept tenant's must survive.
	for _, key := range []string{fmt.Sprintf("t/%d/branding/logo", doomed.ID), fmt.Sprintf("t/%d/orders/o1/p1.jpg", doomed.ID),
		fmt.Sprintf("t/%d/branding/logo", kept.ID)} {
		if err := e.files.Put(ctx, key, "image/png", strings.NewReader("png"), 3); err != nil {
			t.Fatal(err)
		}
	}
	ex, _, err := e.s.RequestExport(ctx, doomed, audit.Entry{Actor: "user:owner"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.RunExport(ctx, doomed, ex.ID); err != nil {
		t.Fatal(err)
	}

	owner := audit.Entry{Actor: "user:owner", IP: "192.0.2.1"}
	if _, err := e.s.RequestDeletion(ctx, doomed, "doomed-typo", "", owner); !errors.Is(err, ErrConfirmationMismatch) {
		t.Fatalf("wrong confirmation: %v", err)
	}
	d, err := e.s.RequestDeletion(ctx, doomed, "doomed", "", owner)
	if err != nil || d.Status != tenancy.StatusSuspended || !d.DeleteAfter.Equal(e.clock.Add(7*24*time.Hour).Truncate(time.Microsecond)) {
		t.Fatalf("RequestDeletion = %+v, %v", d, err)
	}
	if e.hosts.n.Load() != 1 {
		t.Errorf("hosts invalidated %d times; want 1", e.hosts.n.Load())
	}
	e.clock = e.clock.Add(time.Hour)
	again, err := e.s.DeleteTenant(ctx, doomed.ID, "abuse", audit.Entry{Actor: "platform:x"})
	if err != nil || !again.DeleteAfter.Equal(d.DeleteAfter) {
		t.Fatalf("a second request moved the date: %+v, %v (first %s)", again, err, d.DeleteAfter)
	}
	var pending int64
	e.db.Gorm.Raw(`SELECT count(*) FROM public.outbox WHERE tenant_id = ? AND task_type = ? AND process_at = ?`,
		doomed.ID, TaskPurge, d.DeleteAfter).Scan(&pending)
	if pending != 1 {
		t.Fatalf("%d purge tasks scheduled at delete_after; want 1", pending)
	}

	// A restore during the grace period: the kept tenant is held, then resumed by the platform.
	if _, err := e.s.DeleteTenant(ctx, kept.ID, "mistake", audit.Entry{Actor: "platform:x"}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		_, err := e.reg.SetStatus(tx, kept.ID, tenancy.StatusActive, "restored")
		return err
	}); err != nil {
		t.Fatal(err)
	}

	if purged, err := e.s.Purge(ctx, doomed.ID); err != nil || purged {
		t.Fatalf("purge before the date: %v, %v", purged, err)
	}
	e.clock = d.DeleteAfter.Add(time.Second)
	if purged, err := e.s.Purge(ctx, kept.ID); err != nil || purged {
		t.Fatalf("purge of a restored tenant past its old date: %v, %v", purged, err)
	}
	if !e.schemaExists(t, kept.Schema) {
		t.Fatal("the restored tenant's schema is gone")
	}
	// The sweep finds the overdue tenant without its task.
	if err := e.s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := e.reg.ByID(ctx, doomed.ID)
	if err != nil || got.Status != tenancy.StatusDeleted || got.Hold != tenancy.HoldNone || got.Slug != "doomed" {
		t.Fatalf("after the purge: %+v, %v", got, err)
	}
	if e.schemaExists(t, doomed.Schema) {
		t.Error("schema not dropped")
	}
	var keys, domains int64
	e.db.Gorm.Raw(`SELECT count(*) FROM public.tenant_keys WHERE tenant_id = ?`, doomed.ID).Scan(&keys)
	e.db.Gorm.Raw(`SELECT count(*) FROM public.tenant_domains WHERE tenant_id = ?`, doomed.ID).Scan(&domains)
	if keys != 0 || domains != 0 {
		t.Errorf("left %d keysets and %d domains", keys, domains)
	}
	if _, err := e.keys.For(ctx, doomed.ID); !errors.Is(err, pii.ErrNoKeys) {
		t.Errorf("keys still open after the purge: %v", err)
	}
	if _, _, err := e.files.Open(ctx, exportKey(doomed.ID, ex.ID)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("export file survived the purge: %v", err)
	}
	for _, key := range []string{fmt.Sprintf("t/%d/branding/logo", doomed.ID), fmt.Sprintf("t/%d/orders/o1/p1.jpg", doomed.ID)} {
		if _, _, err := e.files.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s survived the purge: %v", key, err)
		}
	}
	if _, _, err := e.files.Open(ctx, fmt.Sprintf("t/%d/branding/logo", kept.ID)); err != nil {
		t.Errorf("the purge removed another tenant's logo: %v", err)
	}
	if ex, _ := e.s.Export(ctx, doomed, ex.ID); ex.Status != ExportExpired {
		t.Errorf("export after the purge: %+v", ex)
	}
	if len(billing.cancelled) != 1 || billing.cancelled[0] != doomed.ID {
		t.Errorf("billing cancelled for %v", billing.cancelled)
	}
	var actions []string
	e.db.Gorm.Raw(`SELECT action FROM public.platform_audit_log WHERE tenant_id = ? ORDER BY id`, doomed.ID).Scan(&actions)
	if strings.Join(actions, ",") != "tenant.deletion_requested,tenant.deleted" {
		t.Errorf("platform audit: %v", actions)
	}
	if purged, err := e.s.Purge(ctx, doomed.ID); err != nil || purged {
		t.Errorf("second purge: %v, %v", purged, err)
	}
	if _, err := e.s.DeleteTenant(ctx, doomed.ID, "again", audit.Entry{Actor: "platform:x"}); !errors.Is(err, ErrTenantDeleted) {
		t.Errorf("deleting a deleted tenant: %v", err)
	}
	if _, err := e.reg.BySlug(ctx, "doomed"); err != nil {
		t.Errorf("the tombstone is gone: %v", err)
	}
}
