package catalog

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound is returned for a task type key this tenant does not have.
	ErrNotFound = errors.New("task type not found")
	// ErrInvalid is returned for a task type definition or a reorder request that breaks a
	// rule; the *ValidationError that wraps it names the field at fault.
	ErrInvalid = errors.New("invalid task type")
	// ErrDuplicate is returned when creating a task type whose key is already taken.
	ErrDuplicate = errors.New("task type key already exists")
	// ErrVersionConflict is returned when a task type changed since the caller read it: the
	// admin must reload and redo the edit rather than overwrite someone else's.
	ErrVersionConflict = errors.New("task type was changed by someone else")
	// ErrInvalidForm matches every *FormError through errors.Is.
	ErrInvalidForm = errors.New("invalid form values")
)

// ValidationError names the first rule a task type definition breaks. Field is a path in the
// API's JSON names ("fields[1].options", "pricing.baseFee") so a form can highlight it.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Reason codes of form problems. They are shown to API clients, which map them to messages,
// so they never change once shipped.
const (
	ReasonRequired     = "required"
	ReasonUnknownField = "unknown_field"
	ReasonInvalidType  = "invalid_type" // a text field given a number, object, list or boolean
	ReasonTooLong      = "too_long"
	ReasonNotANumber   = "not_a_number"
	ReasonOutOfRange   = "out_of_range"
	ReasonNotAnOption  = "not_an_option"
	ReasonInvalidPhone = "invalid_phone"
	ReasonInvalidTime  = "invalid_time"
)

// FieldProblem is one bad value in a submitted form.
type FieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// FormError lists every bad value of a submitted form, declared fields first in form order,
// then unknown keys in lexical order, so the student sees all problems at once.
type FormError struct {
	Problems []FieldProblem
}

func (e *FormError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Reason
	}
	return "invalid form values: " + strings.Join(parts, ", ")
}

// Unwrap makes errors.Is(err, ErrInvalidForm) hold.
func (e *FormError) Unwrap() error { return ErrInvalidForm }
