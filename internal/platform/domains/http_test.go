package domains_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/platform/domains"
)

func wantStatus(t *testing.T, r *apptest.Response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d %s; want %d", r.Status, r.Body, status)
	}
	if code != "" {
		if p := r.Problem(t); p.Code != code {
			t.Fatalf("code %q (%s); want %q", p.Code, p.Detail, code)
		}
	}
}

// TestDomainsHTTP walks an owner through adding, verifying and deleting a custom domain on the
// real router, and the tenant answering at that domain in between.
func TestDomainsHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apptest.New(t)
	// The application's own services; only DNS answers are faked.
	planSvc := env.App.Plans
	dns := newFakeDNS()
	env.App.TXT = dns
	tn := env.Tenant("campus", "13800000000", "demo")
	host := env.Host("campus")
	owner := env.Login("campus", "13800000000").AccessToken
	student := env.Login("campus", "13900000001").AccessToken
	const custom = "errands.north-campus.cn"
	add := map[string]string{"domain": custom}

	if err := planSvc.SetTenantPlan(ctx, tn.ID, "campus", "platform:test", ""); err != nil {
		t.Fatal(err)
	}
	r := env.Do(host, "POST", "/api/v1/admin/domains", owner, add)
	wantStatus(t, r, http.StatusForbidden, "plan_limit_reached")
	var refusal struct {
		Instance string `json:"instance"`
		Limit    string `json:"limit"`
		Max      int64  `json:"max"`
		Upgrade  struct {
			PlanID string `json:"planId"`
		} `json:"upgrade"`
	}
	r.JSON(t, &refusal)
	if refusal.Limit != "custom_domains" || refusal.Max != 0 || refusal.Upgrade.PlanID != "pro" || refusal.Instance == "" {
		t.Errorf("refusal %s", r.Body)
	}
	if err := planSvc.SetTenantPlan(ctx, tn.ID, "pro", "platform:test", "upgrade"); err != nil {
		t.Fatal(err)
	}

	wantStatus(t, env.Do(host, "GET", "/api/v1/branding", "", nil), http.StatusOK, "")
	wantStatus(t, env.Do(custom, "GET", "/api/v1/branding", "", nil), http.StatusNotFound, "tenant_not_found")

	r = env.Do(host, "POST", "/api/v1/admin/domains", owner, add)
	wantStatus(t, r, http.StatusCreated, "")
	var d domains.CustomDomain
	r.JSON(t, &d)
	if d.Status != "pending" || d.TXTRecord.Name != "_paotui."+custom || d.CNAMETarget != host {
		t.Errorf("added %s", r.Body)
	}
	wantStatus(t, env.Do(host, "POST", "/api/v1/admin/domains", owner, add), http.StatusConflict, "domain_exists")
	r = env.Do(host, "POST", "/api/v1/admin/domains", owner, map[string]string{"domain": "not a domain"})
	wantStatus(t, r, http.StatusUnprocessableEntity, "domain_invalid")
	if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Location != "body.domain" {
		t.Errorf("invalid: %s", r.Body)
	}
	wantStatus(t, env.Do(host, "POST", "/api/v1/admin/domains", owner, map[string]string{"domain": "other." + env.App.Cfg.BaseDomain}),
		http.StatusUnprocessableEntity, "domain_under_platform")

	var list struct {
		Items []domains.CustomDomain `json:"items"`
		Total int64                  `json:"total"`
	}
	env.Do(host, "GET", "/api/v1/admin/domains", owner, nil).JSON(t, &list)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].TXTRecord != d.TXTRecord {
		t.Errorf("list %+v", list)
	}

	verify := "/api/v1/admin/domains/" + custom + "/verify"
	wantStatus(t, env.Do(host, "POST", verify, owner, nil), http.StatusConflict, "domain_txt_missing")
	dns.set(d.TXTRecord.Name, []string{"paotui-verification=wrong"}, nil)
	wantStatus(t, env.Do(host, "POST", verify, owner, nil), http.StatusConflict, "domain_txt_mismatch")
	dns.set(d.TXTRecord.Name, nil, errors.New("server misbehaving"))
	r = env.Do(host, "POST", verify, owner, nil)
	wantStatus(t, r, http.StatusServiceUnavailable, "dns_unavailable")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on a DNS failure")
	}
	wantStatus(t, env.Do(host, "POST", "/api/v1/admin/domains/nosuch.north-campus.cn/verify", owner, nil), http.StatusNotFound, "domain_not_found")

	dns.set(d.TXTRecord.Name, []string{d.TXTRecord.Value}, nil)
	r = env.Do(host, "POST", verify, owner, nil)
	wantStatus(t, r, http.StatusOK, "")
	if err := json.Unmarshal(r.Body, &d); err != nil || d.Status != "verified" {
		t.Fatalf("verified %s", r.Body)
	}
	// The service answers at the domain at once, as itself.
	r = env.Do(custom, "GET", "/api/v1/branding", "", nil)
	wantStatus(t, r, http.StatusOK, "")
	var brand struct{ Slug string }
	r.JSON(t, &brand)
	if brand.Slug != "campus" {
		t.Errorf("branding at %s: %s", custom, r.Body)
	}

	wantStatus(t, env.Do(host, "GET", "/api/v1/admin/domains", student, nil), http.StatusForbidden, "permission_denied")
	wantStatus(t, env.Do(host, "DELETE", "/api/v1/admin/domains/"+custom, student, nil), http.StatusForbidden, "permission_denied")
	wantStatus(t, env.Do(host, "DELETE", "/api/v1/admin/domains/"+custom, owner, nil), http.StatusNoContent, "")
	wantStatus(t, env.Do(custom, "GET", "/api/v1/branding", "", nil), http.StatusNotFound, "tenant_not_found")
	wantStatus(t, env.Do(host, "DELETE", "/api/v1/admin/domains/"+custom, owner, nil), http.StatusNotFound, "domain_not_found")
}
