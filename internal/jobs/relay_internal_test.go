package jobs

import (
	"testing"
	"time"
)

// A task is never scheduled before its time: asynq keeps whole seconds, so fractions round up.
func TestNotBeforeRoundsUp(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 10, 0, time.UTC)
	for in, want := range map[time.Time]time.Time{
		base:                                    base,
		base.Add(time.Millisecond):              base.Add(time.Second),
		base.Add(700 * time.Millisecond):        base.Add(time.Second),
		base.Add(time.Second - time.Nanosecond): base.Add(time.Second),
	} {
		if got := notBefore(in); !got.Equal(want) || got.Before(in) {
			t.Errorf("notBefore(%s) = %s, want %s", in.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	}
}
