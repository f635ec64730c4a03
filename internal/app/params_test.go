package app_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Bad input must never be a server fault. For every operation in the OpenAPI document, each
// query parameter in turn gets values of the wrong kind; the answer must be a 2xx or 4xx,
// never a 5xx. Operations added later are covered automatically.
func TestGarbageQueryParametersNeverAnswer500(t *testing.T) {
	e := newErrandEnv(t)
	r := e.Do("localhost", "GET", "/api/openapi.json", "", nil)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Scope       string `json:"x-paotui-scope"`
			Parameters  []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	order := e.createPaid(t)
	hosts := map[string]string{"tenant": e.host, "platform": e.PlatformHost(), "base": "localhost", "any": e.host}
	// "\x00" and "\xff" arrive as a raw NUL byte and invalid UTF-8 (QueryEscape makes %00, %FF).
	garbage := []string{"abc", "-1", "99999999999999999999", "'; DROP TABLE orders; --", "%00", "\x00", "a\xffb", strings.Repeat("x", 300), "0"}
	probed := 0
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if method != "get" {
				continue // query parameters live on reads; bodies are probed by the isolation test
			}
			p := strings.NewReplacer("{orderId}", order.ID, "{userId}", e.student.User.ID, "{placeId}", e.placeID["南门"],
				"{key}", "parcel_pickup", "{slug}", "fresh", "{name}", "zone", "{date}", "2026-10-01", "{role}", "admin").Replace(path)
			for _, param := range op.Parameters {
				if param.In != "query" {
					continue
				}
				for _, g := range garbage {
					probed++
					r := e.Do(hosts[op.Scope], "GET", p+"?"+param.Name+"="+url.QueryEscape(g), e.owner.AccessToken, nil)
					if r.Status >= 500 {
						t.Errorf("%s %s=%q: %d %s", op.OperationID, param.Name, g, r.Status, r.Body)
					}
				}
			}
		}
	}
	if probed < 50 {
		t.Fatalf("only %d probes; the walk found too few query parameters", probed)
	}
}
