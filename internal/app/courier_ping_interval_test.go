package app_test

import (
	"net/http"
	"testing"

	"github.com/paotui/paotui/internal/app/apptest"
)

// Going online (and reading the profile) tells the app the server's ping pacing
// (tracking.ping_interval), rounded up to whole seconds so that pings sent at that pace are
// never too frequent.
func TestGoOnlineReportsPingInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		interval string
		want     int
	}{
		{"whole seconds", "3s", 3},
		{"rounded up", "1500ms", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := apptest.New(t, "PAOTUI_TRACKING_PING_INTERVAL="+tc.interval)
			env.Tenant("campus", "13800000000", "demo")
			host := env.Host("campus")
			courier := env.Login("campus", "13700000001") // approved when the demo campus was seeded

			r := env.Do(host, "POST", "/api/v1/courier/online", courier.AccessToken, nil)
			var on struct {
				Status              string `json:"status"`
				Online              bool   `json:"online"`
				PingIntervalSeconds *int   `json:"pingIntervalSeconds"`
			}
			r.JSON(t, &on)
			if r.Status != http.StatusOK || on.Status != "approved" || !on.Online {
				t.Fatalf("go-online: %d %s", r.Status, r.Body)
			}
			if on.PingIntervalSeconds == nil || *on.PingIntervalSeconds != tc.want {
				t.Fatalf("pingIntervalSeconds in %s; want %d", r.Body, tc.want)
			}

			// An app reloaded while online reads the pace with the profile.
			r = env.Do(host, "GET", "/api/v1/courier/profile", courier.AccessToken, nil)
			var mine struct {
				Online              bool `json:"online"`
				PingIntervalSeconds *int `json:"pingIntervalSeconds"`
			}
			r.JSON(t, &mine)
			if r.Status != http.StatusOK || !mine.Online || mine.PingIntervalSeconds == nil || *mine.PingIntervalSeconds != tc.want {
				t.Fatalf("get-my-courier-profile: %d %s; want pingIntervalSeconds %d", r.Status, r.Body, tc.want)
			}

			// The pace is what the server enforces: a second ping at once is refused.
			fix := map[string]any{"lat": 30.5355, "lng": 114.3645}
			if r := env.Do(host, "POST", "/api/v1/courier/location", courier.AccessToken, fix); r.Status != http.StatusNoContent {
				t.Fatalf("first ping: %d %s", r.Status, r.Body)
			}
			if r := env.Do(host, "POST", "/api/v1/courier/location", courier.AccessToken, fix); r.Status != http.StatusTooManyRequests {
				t.Fatalf("second ping at once: %d %s", r.Status, r.Body)
			}

			// Going offline answers with the plain profile.
			r = env.Do(host, "POST", "/api/v1/courier/offline", courier.AccessToken, nil)
			var off map[string]any
			r.JSON(t, &off)
			if _, ok := off["pingIntervalSeconds"]; r.Status != http.StatusOK || ok || off["online"] != false {
				t.Fatalf("go-offline: %d %s", r.Status, r.Body)
			}
		})
	}
}
