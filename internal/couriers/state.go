package couriers

// Status is where a courier profile is in vetting.
type Status string

const (
	Pending   Status = "pending"
	Approved  Status = "approved"
	Rejected  Status = "rejected"
	Suspended Status = "suspended"
)

// Statuses lists every status (filters, docs).
var Statuses = []Status{Pending, Approved, Rejected, Suspended}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Decision is a staff decision on a profile.
type Decision string

const (
	Approve   Decision = "approve"
	Reject    Decision = "reject"
	Suspend   Decision = "suspend"
	Reinstate Decision = "reinstate"
)

// Decisions lists every decision.
var Decisions = []Decision{Approve, Reject, Suspend, Reinstate}

type move struct {
	from, to Status
	// reason: the courier is told why they were turned away or taken off the road.
	reason bool
}

// machine is every legal decision. Re-applying after a rejection (rejected → pending) is the
// applicant's move, made by Apply, not a staff decision.
var machine = map[Decision]move{
	Approve:   {from: Pending, to: Approved},
	Reject:    {from: Pending, to: Rejected, reason: true},
	Suspend:   {from: Approved, to: Suspended, reason: true},
	Reinstate: {from: Suspended, to: Approved},
}

// Next returns the status decision d moves a profile in from to, or a *TransitionError
// (ErrBadTransition) when d does not apply there.
func Next(from Status, d Decision) (Status, error) {
	m, ok := machine[d]
	if !ok || m.from != from {
		return "", &TransitionError{From: from, Decision: d}
	}
	return m.to, nil
}

// NeedsReason reports whether decision d must come with a reason.
func NeedsReason(d Decision) bool { return machine[d].reason }

// Allowed lists the decisions staff may take on a profile in s (for buttons).
func Allowed(s Status) []Decision {
	out := []Decision{}
	for _, d := range Decisions {
		if machine[d].from == s {
			out = append(out, d)
		}
	}
	return out
}
