package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// A retried money-moving request with the same Idempotency-Key gets the first reply and moves
// money once; the same key with a different request is refused.
func TestIdempotencyKeyReplaysFirstReply(t *testing.T) {
	e := newErrandEnv(t)
	path := "/api/v1/users/" + e.student.User.ID + "/wallet/topups"
	send := func(key string, body any) (*http.Response, []byte) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", e.HTTP.URL+path, bytes.NewReader(raw))
		req.Host = e.host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.owner.AccessToken)
		req.Header.Set("Idempotency-Key", key)
		res, err := e.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res, out
	}
	before := e.money(t)
	body := map[string]any{"amount": 500, "reason": "refund by hand"}
	first, firstBody := send("topup-1", body)
	second, secondBody := send("topup-1", body)
	if first.StatusCode != 200 || second.StatusCode != 200 || !bytes.Equal(firstBody, secondBody) {
		t.Fatalf("replay: %d %s / %d %s", first.StatusCode, firstBody, second.StatusCode, secondBody)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay header: first %q second %q", first.Header.Get("Idempotent-Replayed"), second.Header.Get("Idempotent-Replayed"))
	}
	after := e.money(t)
	if after.wallet != before.wallet+500 || after.journals != before.journals+1 {
		t.Fatalf("money moved %+v -> %+v; want one ¥5 credit", before, after)
	}
	other, otherBody := send("topup-1", map[string]any{"amount": 900, "reason": "refund by hand"})
	if other.StatusCode != http.StatusUnprocessableEntity || !bytes.Contains(otherBody, []byte("idempotency_key_reused")) {
		t.Fatalf("reused key: %d %s", other.StatusCode, otherBody)
	}
	if third, _ := send("topup-2", body); third.StatusCode != 200 || e.money(t).wallet != before.wallet+1000 {
		t.Fatalf("a new key must credit again: %d", third.StatusCode)
	}
}

// Replies are kept a day, then the hourly prune forgets them.
func TestIdempotencyRepliesArePruned(t *testing.T) {
	e := newErrandEnv(t)
	tn := e.tenant(t)
	path := "/api/v1/users/" + e.student.User.ID + "/wallet/topups"
	for _, key := range []string{"old-1", "old-2", "fresh"} {
		raw, _ := json.Marshal(map[string]any{"amount": 100, "reason": "test"})
		req, _ := http.NewRequest("POST", e.HTTP.URL+path, bytes.NewReader(raw))
		req.Host = e.host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.owner.AccessToken)
		req.Header.Set("Idempotency-Key", key)
		res, err := e.HTTP.Client().Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("top-up %s: %v %v", key, err, res)
		}
		res.Body.Close()
	}
	count := func() (n int64) {
		_ = e.App.DB.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT count(*) FROM idempotency_keys`).Scan(&n).Error
		})
		return n
	}
	if err := e.App.DB.InTenant(context.Background(), tn, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE idempotency_keys SET created_at = now() - interval '2 days' WHERE key LIKE 'old-%'`).Error
	}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d replies stored, want 3", n)
	}
	prune := e.App.Idem.HandlePrune(registryTenants{e.App.Registry})
	if err := prune(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d replies after pruning, want only the fresh one", n)
	}
}

type registryTenants struct{ reg *tenancy.Registry }

func (r registryTenants) Active(ctx context.Context) ([]tenancy.Tenant, error) {
	list, _, err := r.reg.List(ctx, tenancy.ListFilter{Status: tenancy.StatusActive, Limit: 1000})
	return list, err
}
