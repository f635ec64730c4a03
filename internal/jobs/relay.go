package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/store"
)

const (
	// relayBatch is how many rows one claim takes; a full batch makes the relay go again at once.
	relayBatch = 100
	// dedupWindow is how long a relayed task stays in Redis after it completes. While it is
	// there, relaying the same row again is refused by task id, so it must outlast any gap
	// between enqueue and the commit of relayed_at (a crash, a lost connection).
	dedupWindow = 24 * time.Hour
	// enqueueTimeout bounds one Redis call, so a hung Redis cannot hold the claimed rows' locks
	// for long.
	enqueueTimeout = 5 * time.Second
	// maxConsecutiveFailures ends a batch early: when Redis is down every row would fail the
	// same way, and the untried rows simply wait for the next round.
	maxConsecutiveFailures = 3
	// maxErrorLen keeps last_error short.
	maxErrorLen = 500
	// listenBackoffMax caps the wait between LISTEN reconnects.
	listenBackoffMax = 30 * time.Second
)

// Relay moves committed outbox rows to asynq. Any number of relays may run against the same
// database: rows are claimed with FOR UPDATE SKIP LOCKED and enqueued under the task id
// "outbox:<id>", so none is enqueued twice.
type Relay struct {
	db       *store.DB
	client   *asynq.Client
	dbURL    string
	maxRetry int
	poll     time.Duration
	log      *slog.Logger
}

// NewRelay relays rows from db through client. dbURL is used for one dedicated connection that
// LISTENs for new rows; cfg gives the poll interval (the fallback when notifications are lost)
// and the tasks' MaxRetry.
func NewRelay(db *store.DB, client *asynq.Client, dbURL string, cfg config.Jobs, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	poll := cfg.OutboxPollInterval
	if poll <= 0 {
		poll = time.Second
	}
	return &Relay{db: db, client: client, dbURL: dbURL, maxRetry: cfg.MaxRetry, poll: poll, log: log}
}

// Run relays until ctx ends, waking on NOTIFY paotui_outbox (sent by Outbox.Add at commit) or
// every poll interval. It returns nil when ctx ends; database and Redis errors are logged and
// retried, never returned.
func (r *Relay) Run(ctx context.Context) error {
	wake := make(chan struct{}, 1)
	listenDone := make(chan struct{})
	go func() {
		defer close(listenDone)
		r.listen(ctx, wake)
	}()
	defer func() { <-listenDone }()

	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	for {
		n, err := r.RelayOnce(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("outbox relay failed", "err", err)
		}
		if err == nil && n == relayBatch {
			continue // more are probably waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-tick.C:
		}
	}
}

// listen holds a LISTEN connection and signals wake on every notification, reconnecting with
// backoff when the connection fails. A reconnect also signals wake, since notifications sent
// while disconnected are lost.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	backoff := time.Second
	for ctx.Err() == nil {
		err := r.listenOnce(ctx, signal)
		if ctx.Err() != nil {
			return
		}
		r.log.Warn("outbox listener lost; polling until it reconnects", "err", err, "retryIn", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, listenBackoffMax)
	}
}

func (r *Relay) listenOnce(ctx context.Context, signal func()) error {
	conn, err := pgx.Connect(ctx, r.dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		signal()
	}
}

type outboxRow struct {
	ID        int64
	TenantID  *int64
	TaskType  string
	Payload   string
	Queue     string
	ProcessAt *time.Time
}

// RelayOnce claims up to one batch of pending rows, enqueues them and records the outcome, all
// in one transaction. It returns how many rows were relayed (including rows asynq already had).
// A row whose enqueue fails stays pending with attempts and last_error updated; that is not an
// error of RelayOnce.
func (r *Relay) RelayOnce(ctx context.Context) (n int, err error) {
	err = r.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []outboxRow
		err := tx.Raw(`SELECT id, tenant_id, task_type, payload::text AS payload, queue, process_at
			FROM public.outbox WHERE relayed_at IS NULL
			ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, relayBatch).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("claim outbox rows: %w", err)
		}
		var done []int64
		failures := 0
		for _, row := range rows {
			if err := r.enqueue(ctx, row); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				msg := err.Error()
				if len(msg) > maxErrorLen {
					msg = msg[:maxErrorLen]
				}
				if err := tx.Exec(`UPDATE public.outbox SET attempts = attempts + 1, last_error = ?
					WHERE id = ?`, msg, row.ID).Error; err != nil {
					return fmt.Errorf("record outbox failure: %w", err)
				}
				r.log.Warn("outbox enqueue failed; row stays pending", "id", row.ID, "type", row.TaskType, "err", err)
				if failures++; failures >= maxConsecutiveFailures {
					break
				}
				continue
			}
			failures = 0
			done = append(done, row.ID)
		}
		if len(done) > 0 {
			if err := tx.Exec(`UPDATE public.outbox SET relayed_at = now() WHERE id IN ?`, done).Error; err != nil {
				return fmt.Errorf("mark outbox rows relayed: %w", err)
			}
		}
		n = len(done)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// enqueue hands one row to asynq. A task id conflict means an earlier relay already enqueued
// it (and it may have run): that is success, not a second run.
func (r *Relay) enqueue(ctx context.Context, row outboxRow) error {
	env := Envelope{Data: json.RawMessage(row.Payload)}
	if row.TenantID != nil {
		env.TenantID = *row.TenantID
	}
	payload, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode envelope: %w", err)
	}
	opts := []asynq.Option{
		asynq.TaskID(TaskID(row.ID)),
		asynq.Queue(row.Queue),
		asynq.MaxRetry(r.maxRetry),
		asynq.Retention(dedupWindow),
	}
	if row.ProcessAt != nil {
		opts = append(opts, asynq.ProcessAt(notBefore(*row.ProcessAt)))
	}
	ectx, cancel := context.WithTimeout(ctx, enqueueTimeout)
	defer cancel()
	_, err = r.client.EnqueueContext(ectx, asynq.NewTask(row.TaskType, payload), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return err
	}
	return nil
}

// TaskID is the asynq task id of outbox row id, for looking a relayed task up in the Inspector.
func TaskID(outboxID int64) string { return "outbox:" + strconv.FormatInt(outboxID, 10) }

// notBefore rounds t up to a whole second: asynq keeps scheduled tasks by Unix second, so a task
// due at 10.7 s would otherwise run at 10 s, before the deadline it exists to check.
func notBefore(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}
