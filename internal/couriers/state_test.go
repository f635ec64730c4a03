package couriers_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/paotui/paotui/internal/couriers"
)

// Every status × decision: the four legal moves, and ErrBadTransition for everything else
// (including a decision that would leave the status as it is).
func TestNext(t *testing.T) {
	t.Parallel()
	legal := map[couriers.Status]map[couriers.Decision]couriers.Status{
		couriers.Pending:   {couriers.Approve: couriers.Approved, couriers.Reject: couriers.Rejected},
		couriers.Approved:  {couriers.Suspend: couriers.Suspended},
		couriers.Suspended: {couriers.Reinstate: couriers.Approved},
		couriers.Rejected:  {},
	}
	for _, from := range couriers.Statuses {
		for _, d := range append(slices.Clone(couriers.Decisions), "ban") {
			t.Run(string(from)+"/"+string(d), func(t *testing.T) {
				got, err := couriers.Next(from, d)
				want, ok := legal[from][d]
				if !ok {
					var te *couriers.TransitionError
					if !errors.Is(err, couriers.ErrBadTransition) || !errors.As(err, &te) || te.From != from || te.Decision != d {
						t.Fatalf("Next = %q, %v; want a TransitionError", got, err)
					}
					return
				}
				if err != nil || got != want {
					t.Fatalf("Next = %q, %v; want %q", got, err, want)
				}
			})
		}
		t.Run(string(from)+"/allowed", func(t *testing.T) {
			var want []couriers.Decision
			for _, d := range couriers.Decisions {
				if _, ok := legal[from][d]; ok {
					want = append(want, d)
				}
			}
			if got := couriers.Allowed(from); !slices.Equal(got, want) || got == nil {
				t.Fatalf("Allowed(%s) = %#v, want %v", from, got, want)
			}
		})
	}
	for _, tc := range []struct {
		d    couriers.Decision
		want bool
	}{{couriers.Approve, false}, {couriers.Reject, true}, {couriers.Suspend, true}, {couriers.Reinstate, false}} {
		if got := couriers.NeedsReason(tc.d); got != tc.want {
			t.Errorf("NeedsReason(%s) = %v, want %v", tc.d, got, tc.want)
		}
	}
}
