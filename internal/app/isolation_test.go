package app_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
	"github.com/paotui/paotui/internal/pii"
)

// TestTenantIsolation walks every tenant-scoped operation in the OpenAPI document and calls it
// (1) with tenant A's owner token on tenant B's host, (2) with no token on B's host, and
// (3) with A's token on A's own host but B's ids in the path and body. No response may carry
// any of B's private data, and none may be a server error. Operations added by later issues
// are covered automatically because the walk reads the document; seedB is where they add
// B data worth protecting.
func TestTenantIsolation(t *testing.T) {
	env := apptest.New(t)
	env.Tenant("iso-a", "13811110000")
	env.Tenant("iso-b", "13922220000", "demo")
	a := env.Login("iso-a", "13811110000")
	b := env.Login("iso-b", "13922220000")
	hostA, hostB := env.Host("iso-a"), env.Host("iso-b")

	markers, ids, phones := seedB(t, env, hostB, b.AccessToken)

	// The markers are real: B's owner sees them through B's own API, so a leak would be caught.
	if r := env.Do(hostB, "GET", "/api/v1/users?limit=100", b.AccessToken, nil); !containsAny(string(r.Body), markers) {
		t.Fatalf("B's own listing shows none of B's markers; the harness would be blind: %s", r.Body)
	}

	ops := tenantOperations(t, env)
	if len(ops) < 10 {
		t.Fatalf("only %d tenant-scoped operations found in the OpenAPI document", len(ops))
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	calls := 0
	for _, op := range ops {
		values := append([]string{}, ids...)
		values = append(values, "owner", "admin")
		paths := []string{op.path}
		if param.MatchString(op.path) {
			paths = paths[:0]
			for _, v := range values {
				paths = append(paths, param.ReplaceAllString(op.path, v))
			}
		}
		for _, p := range paths {
			for _, c := range []struct {
				name, host, token, phone string
			}{
				{"A token on B host", hostB, a.AccessToken, phones[0]},
				{"no token on B host", hostB, "", phones[0]},
				// On A's own host the probe must not create A data that looks like B's (a
				// grant to B's phone would legitimately list that phone in A later).
				{"A token on A host with B ids", hostA, a.AccessToken, "13000000001"},
			} {
				sendBodies := []any{nil}
				if op.method == "POST" || op.method == "PUT" || op.method == "PATCH" {
					sendBodies = []any{map[string]any{}, bodyFor(op.props, ids[0], c.phone)}
				}
				for _, body := range sendBodies {
					r := env.Do(c.host, op.method, p, c.token, body)
					calls++
					if r.Status >= 500 {
						t.Errorf("%s %s %s (%s): server error %d %s", op.id, op.method, p, c.name, r.Status, r.Body)
					}
					// Validation problems echo the request; only B data we did not send counts.
					sent, _ := json.Marshal(body)
					if m := firstMarker(string(r.Body), without(markers, p+string(sent))); m != "" {
						t.Errorf("%s %s %s (%s): response carries B's data %q: %s", op.id, op.method, p, c.name, m, r.Body)
					}
				}
			}
		}
	}
	if !t.Failed() {
		t.Logf("%d tenant-scoped operations, %d calls, no B data leaked", len(ops), calls)
	}
}

// seedB gives tenant B data that must never be visible from A: staff with names and phones,
// audit entries, and returns the strings that identify it. A marker "x|y" is one value in
// its forms (clear|masked): a request that sends any form excuses all of them.
func seedB(t *testing.T, env *apptest.Env, host, token string) (markers, ids, phones []string) {
	t.Helper()
	staff := []struct{ phone, name, role string }{
		{"13933330001", "乙方调度员", "dispatcher"},
		{"13933330002", "乙方财务员", "finance"},
		{"13933330003", "乙方客服员", "support"},
	}
	for _, s := range staff {
		r := env.Do(host, "POST", "/api/v1/staff/roles", token, map[string]string{"phone": s.phone, "name": s.name, "role": s.role})
		if r.Status != 200 {
			t.Fatalf("seed B: %d %s", r.Status, r.Body)
		}
		var out struct {
			User struct{ ID string } `json:"user"`
		}
		r.JSON(t, &out)
		ids = append(ids, out.User.ID)
		phones = append(phones, s.phone)
		markers = append(markers, out.User.ID, s.phone+"|"+pii.MaskPhone(s.phone), s.name+"|"+pii.MaskName(s.name))
		// Reveal it once so B has pii.read audit entries too.
		env.Do(host, "GET", "/api/v1/users/"+out.User.ID+"/pii", token, nil)
		// And money: B's books then hold a wallet owned by this id, which the finance reads
		// (journals, accounts) would show if they leaked.
		if r := env.Do(host, "POST", "/api/v1/users/"+out.User.ID+"/wallet/topups", token,
			map[string]any{"amount": 1234, "reason": "isolation seed"}); r.Status >= 300 {
			t.Fatalf("seed B top-up: %d %s", r.Status, r.Body)
		}
	}
	me := env.Do(host, "GET", "/api/v1/me", token, nil)
	var m struct{ ID string }
	me.JSON(t, &m)
	ids = append(ids, m.ID)
	markers = append(markers, m.ID, "13922220000|"+pii.MaskPhone("13922220000"))
	return markers, ids, phones
}

type operation struct {
	id, method, path string
	props            map[string]string // request body property -> JSON type
}

// bodyFor fills a request body's properties with B's identifiers where the name suggests one,
// so operations get past validation and really look B's data up.
func bodyFor(props map[string]string, id, phone string) map[string]any {
	out := map[string]any{}
	for name, typ := range props {
		lower := strings.ToLower(name)
		switch {
		case typ != "string":
			continue
		case strings.Contains(lower, "phone"):
			out[name] = phone
		case strings.HasSuffix(lower, "id"):
			out[name] = id
		case lower == "role":
			out[name] = "admin"
		case lower == "code":
			out[name] = "123456"
		default:
			out[name] = "isolation-probe"
		}
	}
	return out
}

func without(markers []string, sent string) []string {
	var out []string
	for _, m := range markers {
		if !containsAny(sent, strings.Split(m, "|")) {
			out = append(out, m)
		}
	}
	return out
}

func tenantOperations(t *testing.T, env *apptest.Env) []operation {
	t.Helper()
	r := env.Do("localhost", "GET", "/api/openapi.json", "", nil)
	if r.Status != 200 {
		t.Fatalf("openapi: %d", r.Status)
	}
	type schema struct {
		Ref        string `json:"$ref"`
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Scope       string `json:"x-paotui-scope"`
			RequestBody struct {
				Content map[string]struct {
					Schema schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	propsOf := func(s schema) map[string]string {
		if s.Ref != "" {
			s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		}
		out := map[string]string{}
		for name, p := range s.Properties {
			out[name], _ = p.Type.(string)
		}
		return out
	}
	var ops []operation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if op.Scope == "" {
				t.Errorf("%s %s (%s) declares no x-paotui-scope", method, path, op.OperationID)
			}
			if op.Scope == "tenant" || op.Scope == "any" {
				ops = append(ops, operation{id: op.OperationID, method: strings.ToUpper(method), path: path,
					props: propsOf(op.RequestBody.Content["application/json"].Schema)})
			}
		}
	}
	return ops
}

func containsAny(s string, markers []string) bool { return firstMarker(s, markers) != "" }

func firstMarker(s string, markers []string) string {
	for _, m := range markers {
		for _, form := range strings.Split(m, "|") {
			if form != "" && strings.Contains(s, form) {
				return form
			}
		}
	}
	return ""
}

// Every operation must say which permission it needs (or that it is public or self-service)
// and have a kebab-case id: the isolation walk and the clients rely on the document.
func TestOpenAPIDeclaresAccess(t *testing.T) {
	env := apptest.New(t)
	r := env.Do("localhost", "GET", "/api/openapi.json", "", nil)
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Scope       string `json:"x-paotui-scope"`
			Auth        *bool  `json:"x-paotui-auth"`
		} `json:"paths"`
	}
	r.JSON(t, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	kebab := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	seen := map[string]bool{}
	for path, methods := range doc.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			t.Errorf("%s is not under /api/v1/", path)
		}
		for method, op := range methods {
			if !kebab.MatchString(op.OperationID) || seen[op.OperationID] {
				t.Errorf("%s %s: operation id %q must be unique kebab-case", method, path, op.OperationID)
			}
			seen[op.OperationID] = true
			if op.Scope == "" || op.Auth == nil {
				t.Errorf("%s %s: missing x-paotui-scope / x-paotui-auth", method, path)
			}
		}
	}
	for _, id := range []string{"send-sms-code", "login", "get-me", "grant-role", "revoke-role", "list-users", "get-user-pii", "platform-login", "get-job-health"} {
		if !seen[id] {
			t.Errorf("operation %s missing", id)
		}
	}
	if r := env.Do("localhost", "GET", "/api/docs", "", nil); r.Status != 200 {
		t.Errorf("/api/docs: %d", r.Status)
	}
}
