package couriers

import (
	"errors"
	"fmt"
)

// Errors of the couriers domain; Problems gives each its HTTP meaning.
var (
	// ErrNotFound: the user never applied.
	ErrNotFound = errors.New("no courier profile for this user")
	// ErrInvalid matches every *InvalidError about an application.
	ErrInvalid = errors.New("invalid courier application")
	// ErrAlreadyCourier: an approved or suspended courier cannot apply again.
	ErrAlreadyCourier = errors.New("already a courier: the application was approved")
	// ErrStudentNoTaken: another user of the tenant applied with this student number.
	ErrStudentNoTaken = errors.New("this student number is already used by another courier application")
	// ErrReasonRequired: rejecting and suspending need a reason the courier will read.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrBadTransition: the decision does not apply to the profile's status; a
	// *TransitionError says which.
	ErrBadTransition = errors.New("the courier profile cannot make this move in its current status")
	// ErrNotApproved: only approved couriers can go online.
	ErrNotApproved = errors.New("the courier application is not approved")
)

// Refusals of the gate (LockEligible), in the order it checks them. Other packages map them
// with Problems.
var (
	// ErrNotCourier: the user has no profile, or it is pending or rejected.
	ErrNotCourier = errors.New("not an approved courier")
	// ErrSuspended: staff suspended the courier.
	ErrSuspended = errors.New("the courier is suspended")
	// ErrOffline: the courier must go online before taking orders.
	ErrOffline = errors.New("the courier is offline; go online first")
	// ErrCreditTooLow: the courier's credit score is below the tenant's floor (settings
	// minCredit).
	ErrCreditTooLow = errors.New("the courier's credit score is below the minimum for taking orders")
)

// InvalidError says which application field was refused and why; errors.Is matches
// ErrInvalid.
type InvalidError struct {
	Field  string // realName, studentNo, vehicle, note
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalid, e.Field, e.Reason)
}

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// TransitionError is the ErrBadTransition of one refused decision.
type TransitionError struct {
	From     Status
	Decision Decision
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s a courier profile that is %s", e.Decision, e.From)
}

// Unwrap returns ErrBadTransition.
func (e *TransitionError) Unwrap() error { return ErrBadTransition }
