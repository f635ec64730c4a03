package orders

import (
	"errors"
	"fmt"
)

// Status is where an order is in its life.
type Status string

const (
	AwaitingPayment Status = "awaiting_payment"
	AwaitingCourier Status = "awaiting_courier"
	Accepted        Status = "accepted"
	PickedUp        Status = "picked_up"
	Delivered       Status = "delivered"
	Completed       Status = "completed"
	Cancelled       Status = "cancelled"
	Expired         Status = "expired"
	Refunded        Status = "refunded"
)

// Statuses lists every status in lifecycle order (filters, reports, docs).
var Statuses = []Status{AwaitingPayment, AwaitingCourier, Accepted, PickedUp, Delivered, Completed, Cancelled, Expired, Refunded}

// Terminal reports whether nothing more can happen to an order in s (except the refund of
// what a cancelled order still holds, which is a money correction, not a step of the errand).
func (s Status) Terminal() bool {
	return s == Completed || s == Cancelled || s == Expired || s == Refunded
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Event is something that moves an order.
type Event string

const (
	EventPay     Event = "pay"     // payment captured
	EventExpire  Event = "expire"  // unpaid past the tenant's timeout
	EventAccept  Event = "accept"  // a courier grabbed it or accepted an offer
	EventRelease Event = "release" // the courier gave it back, or staff took it away to reassign
	EventPickup  Event = "pickup"  // the courier has the item
	EventDeliver Event = "deliver" // handed over, with the delivery code or a photo
	EventConfirm Event = "confirm" // the student confirmed receipt, or auto-confirm
	EventCancel  Event = "cancel"
	EventRefund  Event = "refund" // the paid amount went back in full
)

// Actor is the kind of party causing an event.
type Actor string

const (
	ActorStudent Actor = "student"
	ActorCourier Actor = "courier"
	ActorStaff   Actor = "staff"
	ActorSystem  Actor = "system"
)

// ErrIllegalTransition is returned for an event the order's status does not allow, or an
// actor who may not cause it there.
var ErrIllegalTransition = errors.New("order cannot do that in its current status")

// TransitionError says which move was refused.
type TransitionError struct {
	From  Status
	Event Event
	Actor Actor
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s cannot %s an order that is %s", e.Actor, e.Event, e.From)
}

func (e *TransitionError) Unwrap() error { return ErrIllegalTransition }

type step struct {
	from  Status
	event Event
}

type rule struct {
	to     Status
	actors []Actor
}

// machine is every legal move. Whether a cancellation is free or costs a fee is a policy the
// service applies on top; whether an actor is *this* order's student or courier is checked by
// the service too. The machine only says what can happen at all.
var machine = map[step]rule{
	{AwaitingPayment, EventPay}:    {AwaitingCourier, []Actor{ActorSystem, ActorStaff}},
	{AwaitingPayment, EventExpire}: {Expired, []Actor{ActorSystem}},
	{AwaitingPayment, EventCancel}: {Cancelled, []Actor{ActorStudent, ActorStaff, ActorSystem}},

	{AwaitingCourier, EventAccept}: {Accepted, []Actor{ActorCourier, ActorStaff, ActorSystem}},
	{AwaitingCourier, EventCancel}: {Cancelled, []Actor{ActorStudent, ActorStaff}},

	{Accepted, EventRelease}: {AwaitingCourier, []Actor{ActorCourier, ActorStaff, ActorSystem}},
	{Accepted, EventPickup}:  {PickedUp, []Actor{ActorCourier}},
	{Accepted, EventCancel}:  {Cancelled, []Actor{ActorStudent, ActorStaff}},

	// Once the item is in the courier's hands only staff can undo the errand (exception
	// handling: item lost, shop closed); a student must raise a ticket.
	{PickedUp, EventDeliver}: {Delivered, []Actor{ActorCourier}},
	{PickedUp, EventRelease}: {AwaitingCourier, []Actor{ActorStaff}},
	{PickedUp, EventCancel}:  {Cancelled, []Actor{ActorStaff}},

	{Delivered, EventConfirm}: {Completed, []Actor{ActorStudent, ActorSystem, ActorStaff}},
	{Delivered, EventRefund}:  {Refunded, []Actor{ActorStaff}},

	// No refund of a completed order: confirming it settled the escrow to the courier and the
	// tenant, so there is nothing left to refund from (see refundable). Taking money back
	// after settlement is a clawback, which belongs to the disputes work.
	{Cancelled, EventRefund}: {Refunded, []Actor{ActorStaff, ActorSystem}},
}

// Next returns the status an order in from moves to when actor causes event, or a
// *TransitionError (matching ErrIllegalTransition).
func Next(from Status, event Event, actor Actor) (Status, error) {
	r, ok := machine[step{from, event}]
	if ok {
		for _, a := range r.actors {
			if a == actor {
				return r.to, nil
			}
		}
	}
	return "", &TransitionError{From: from, Event: event, Actor: actor}
}

// Allowed lists the events actor may cause on an order in status s (for UI buttons).
func Allowed(s Status, actor Actor) []Event {
	var out []Event
	for _, e := range []Event{EventPay, EventExpire, EventAccept, EventRelease, EventPickup, EventDeliver, EventConfirm, EventCancel, EventRefund} {
		if _, err := Next(s, e, actor); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// ErrSettled is returned for a refund of a completed order: its escrow has been split to the
// courier and the tenant.
var ErrSettled = errors.New("the order is settled")

// refundable says whether staff may refund an order in s at all (how much is a separate
// check against what is left of the payment). Allowed must never offer EventRefund where
// this refuses; state_test.go holds the two together.
func refundable(s Status) error {
	if s == Completed {
		return ErrSettled
	}
	return nil
}
