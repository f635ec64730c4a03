package tenancy

import (
	"strings"
	"testing"
	"time"
)

// Host headers are untrusted: whatever classify lets through as a tenant under the base domain
// is a valid, unreserved slug, and the base and platform hosts are recognised in any case.
func FuzzClassifyHost(f *testing.F) {
	for _, s := range []string{"demo.localhost", "admin.localhost", "localhost:8080", "a.b.localhost", "[::1]:80", "", "DEMO.LOCALHOST.", "www.localhost", "x--y.localhost"} {
		f.Add(s)
	}
	r := NewResolver(nil, nil, "localhost", time.Minute, nil)
	f.Fuzz(func(t *testing.T, host string) {
		kind, name, err := r.classify(host)
		if err != nil {
			return
		}
		if kind == KindTenant {
			if sub, ok := strings.CutSuffix(name, ".localhost"); ok {
				if ValidateSlug(sub, nil) != nil || IsReserved(sub) {
					t.Fatalf("%q classified as tenant %q", host, sub)
				}
			}
			if name != strings.ToLower(name) {
				t.Fatalf("%q not normalized: %q", host, name)
			}
		}
	})
}
