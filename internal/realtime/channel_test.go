package realtime_test

import (
	"testing"

	"github.com/paotui/paotui/internal/realtime"
)

func TestChannelNames(t *testing.T) {
	t.Parallel()
	const uid = "6f1c2a4e-0000-4000-8000-000000000001"
	cases := []struct{ name, got, want string }{
		{"order", realtime.OrderChannel(42, "o-1"), "t:42:order:o-1"},
		{"hall", realtime.HallChannel(42), "t:42:hall"},
		{"admin", realtime.AdminChannel(42), "t:42:admin"},
		{"map", realtime.MapChannel(42), "t:42:map"},
		{"courier", realtime.CourierChannel(42, uid), "t:42:courier:" + uid},
		{"position", realtime.PositionChannel(42, uid), "t:42:courier:" + uid + ":pos"},
		{"another tenant", realtime.HallChannel(7), "t:7:hall"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q; want %q", tc.got, tc.want)
			}
		})
	}
}
