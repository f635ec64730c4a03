package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/hibiken/asynq"
)

// Queues are fixed at start; one tenant's load is capped by the per-tenant semaphore, never by
// a queue of its own.
const (
	QueueCritical = "critical" // payments, dispatch
	QueueDefault  = "default"
	QueueLow      = "low" // reports, exports, housekeeping
)

var (
	// ErrBadType is returned for a task type that is not "domain:action" in lower case.
	ErrBadType = errors.New(`task type must be "domain:action" (lower-case letters and _)`)
	// ErrBadQueue is returned for a queue other than critical, default or low.
	ErrBadQueue = errors.New("queue must be critical, default or low")
	// ErrBadPayload is returned when a task payload is not a valid envelope. Handlers should
	// not retry it: the same bytes will not decode better next time.
	ErrBadPayload = errors.New("task payload is not a valid envelope")
)

// typePattern is the same rule as the CHECK on public.outbox.task_type.
var typePattern = regexp.MustCompile(`^[a-z_]+:[a-z_]+$`)

func validType(typ string) error {
	if !typePattern.MatchString(typ) {
		return fmt.Errorf("%w: %q", ErrBadType, typ)
	}
	return nil
}

func validQueue(q string) error {
	switch q {
	case QueueCritical, QueueDefault, QueueLow:
		return nil
	}
	return fmt.Errorf("%w: %q", ErrBadQueue, q)
}

// Envelope is the payload of every task. The tenant id travels here because the context a
// task was enqueued with does not reach the worker; 0 means platform work.
type Envelope struct {
	TenantID int64           `json:"tenantId,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
}

// NewTask wraps data (ids only, no personal data) in an envelope for tenantID (0 = platform).
func NewTask(typ string, tenantID int64, data any, opts ...asynq.Option) (*asynq.Task, error) {
	if err := validType(typ); err != nil {
		return nil, err
	}
	env := Envelope{TenantID: tenantID}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("encode %s data: %w", typ, err)
		}
		env.Data = b
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode %s envelope: %w", typ, err)
	}
	return asynq.NewTask(typ, b, opts...), nil
}

// Decode reads a task's envelope: its tenant id and its data as T. Missing data decodes as
// the zero T. Errors wrap ErrBadPayload.
func Decode[T any](t *asynq.Task) (tenantID int64, data T, err error) {
	env, err := decodeEnvelope(t)
	if err != nil {
		return 0, data, err
	}
	if len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, &data); err != nil {
			return 0, data, fmt.Errorf("%w: %s data: %v", ErrBadPayload, t.Type(), err)
		}
	}
	return env.TenantID, data, nil
}

func decodeEnvelope(t *asynq.Task) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(t.Payload(), &env); err != nil {
		return Envelope{}, fmt.Errorf("%w: %s: %v", ErrBadPayload, t.Type(), err)
	}
	if env.TenantID < 0 {
		return Envelope{}, fmt.Errorf("%w: %s: negative tenant id", ErrBadPayload, t.Type())
	}
	return env, nil
}

// Typed adapts a handler that wants the decoded data. A payload that does not decode is
// archived at once (asynq.SkipRetry) rather than retried.
func Typed[T any](fn func(ctx context.Context, data T) error) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		_, data, err := Decode[T](t)
		if err != nil {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return fn(ctx, data)
	}
}
