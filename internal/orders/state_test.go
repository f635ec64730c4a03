package orders

import (
	"errors"
	"testing"
)

func TestNext(t *testing.T) {
	cases := []struct {
		name  string
		from  Status
		event Event
		actor Actor
		want  Status // "" = refused
	}{
		{"payment captured", AwaitingPayment, EventPay, ActorSystem, AwaitingCourier},
		{"staff marks cash paid", AwaitingPayment, EventPay, ActorStaff, AwaitingCourier},
		{"student cannot mark paid", AwaitingPayment, EventPay, ActorStudent, ""},
		{"unpaid expires", AwaitingPayment, EventExpire, ActorSystem, Expired},
		{"only the system expires", AwaitingPayment, EventExpire, ActorStaff, ""},
		{"paid order does not expire", AwaitingCourier, EventExpire, ActorSystem, ""},
		{"student cancels unpaid", AwaitingPayment, EventCancel, ActorStudent, Cancelled},
		{"student cancels before acceptance", AwaitingCourier, EventCancel, ActorStudent, Cancelled},
		{"courier grabs", AwaitingCourier, EventAccept, ActorCourier, Accepted},
		{"student cannot accept", AwaitingCourier, EventAccept, ActorStudent, ""},
		{"cannot accept unpaid", AwaitingPayment, EventAccept, ActorCourier, ""},
		{"cannot accept twice", Accepted, EventAccept, ActorCourier, ""},
		{"courier gives it back", Accepted, EventRelease, ActorCourier, AwaitingCourier},
		{"student cancels after acceptance", Accepted, EventCancel, ActorStudent, Cancelled},
		{"pickup", Accepted, EventPickup, ActorCourier, PickedUp},
		{"staff cannot pick up", Accepted, EventPickup, ActorStaff, ""},
		{"no delivery before pickup", Accepted, EventDeliver, ActorCourier, ""},
		{"deliver", PickedUp, EventDeliver, ActorCourier, Delivered},
		{"student cannot cancel picked up", PickedUp, EventCancel, ActorStudent, ""},
		{"staff cancels picked up (item lost)", PickedUp, EventCancel, ActorStaff, Cancelled},
		{"staff reassigns picked up", PickedUp, EventRelease, ActorStaff, AwaitingCourier},
		{"courier cannot release picked up", PickedUp, EventRelease, ActorCourier, ""},
		{"student confirms", Delivered, EventConfirm, ActorStudent, Completed},
		{"auto-confirm", Delivered, EventConfirm, ActorSystem, Completed},
		{"courier cannot confirm", Delivered, EventConfirm, ActorCourier, ""},
		{"no cancel after delivery", Delivered, EventCancel, ActorStaff, ""},
		{"dispute refund after delivery", Delivered, EventRefund, ActorStaff, Refunded},
		{"no refund of a settled order", Completed, EventRefund, ActorStaff, ""},
		{"refund cancelled", Cancelled, EventRefund, ActorSystem, Refunded},
		{"student cannot refund", Cancelled, EventRefund, ActorStudent, ""},
		{"expired is final", Expired, EventPay, ActorSystem, ""},
		{"refunded is final", Refunded, EventRefund, ActorStaff, ""},
		{"completed cannot cancel", Completed, EventCancel, ActorStaff, ""},
		{"unknown status", Status("lost"), EventPay, ActorSystem, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Next(tc.from, tc.event, tc.actor)
			if tc.want == "" {
				var te *TransitionError
				if !errors.Is(err, ErrIllegalTransition) || !errors.As(err, &te) || te.From != tc.from {
					t.Fatalf("Next = %q, %v; want refusal", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Next = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// Every status is reachable from awaiting_payment and terminal statuses only lead to refunded.
func TestMachineShape(t *testing.T) {
	reached := map[Status]bool{AwaitingPayment: true}
	for changed := true; changed; {
		changed = false
		for m, r := range machine {
			if reached[m.from] && !reached[r.to] {
				reached[r.to] = true
				changed = true
			}
		}
	}
	for _, s := range Statuses {
		if !reached[s] {
			t.Errorf("%s is unreachable", s)
		}
	}
	for m, r := range machine {
		if m.from.Terminal() && r.to != Refunded {
			t.Errorf("terminal %s leads to %s", m.from, r.to)
		}
		if !m.from.Valid() || !r.to.Valid() {
			t.Errorf("unknown status in %v -> %v", m, r.to)
		}
	}
	if got := Allowed(Accepted, ActorCourier); len(got) != 2 {
		t.Errorf("courier on accepted order may %v; want release and pickup", got)
	}
}

// The buttons a client draws come from Allowed; a refund button the service then refuses
// (the web admin offered refunds of completed orders, which refund-order rejected as settled)
// must not exist for any status or actor.
func TestAllowedRefundIsRefundable(t *testing.T) {
	if err := refundable(Completed); !errors.Is(err, ErrSettled) {
		t.Fatalf("refundable(completed) = %v, want ErrSettled", err)
	}
	for _, s := range Statuses {
		for _, a := range []Actor{ActorStudent, ActorCourier, ActorStaff, ActorSystem} {
			for _, e := range Allowed(s, a) {
				if e != EventRefund {
					continue
				}
				if err := refundable(s); err != nil {
					t.Errorf("%s on a %s order is offered refund, which the service refuses: %v", a, s, err)
				}
			}
		}
	}
}
