package jobs

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
)

// QueueStat is one queue's health for the super-admin.
type QueueStat struct {
	Queue     string `json:"queue"`
	Size      int    `json:"size"` // pending + active + scheduled + retry + aggregating + archived
	Pending   int    `json:"pending"`
	Active    int    `json:"active"`
	Scheduled int    `json:"scheduled"`
	Retry     int    `json:"retry"`
	// Archived tasks failed for good (retries exhausted or asynq.SkipRetry). They stay visible
	// here until someone retries or deletes them in the Inspector.
	Archived       int           `json:"archived"`
	Completed      int           `json:"completed"`      // completed tasks still retained (outbox tasks, for deduplication)
	ProcessedToday int           `json:"processedToday"` // succeeded and failed, since 00:00 UTC
	FailedToday    int           `json:"failedToday"`
	Latency        time.Duration `json:"-"` // age of the oldest pending task
	Paused         bool          `json:"paused"`
	LatencySeconds float64       `json:"latencySeconds"` // Latency for JSON clients
}

// QueueStats reports critical, default and low in that order (zeros for a queue Redis has not
// seen yet), followed by any other queue found in Redis, which should not exist.
func QueueStats(ctx context.Context, inspector *asynq.Inspector) ([]QueueStat, error) {
	known, err := inspector.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	names := []string{QueueCritical, QueueDefault, QueueLow}
	extra := slices.DeleteFunc(slices.Clone(known), func(q string) bool { return slices.Contains(names, q) })
	slices.Sort(extra)
	names = append(names, extra...)

	out := make([]QueueStat, 0, len(names))
	for _, q := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !slices.Contains(known, q) {
			out = append(out, QueueStat{Queue: q})
			continue
		}
		info, err := inspector.GetQueueInfo(q)
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", q, err)
		}
		out = append(out, QueueStat{
			Queue:          q,
			Size:           info.Size,
			Pending:        info.Pending,
			Active:         info.Active,
			Scheduled:      info.Scheduled,
			Retry:          info.Retry,
			Archived:       info.Archived,
			Completed:      info.Completed,
			ProcessedToday: info.Processed,
			FailedToday:    info.Failed,
			Latency:        info.Latency,
			LatencySeconds: info.Latency.Seconds(),
			Paused:         info.Paused,
		})
	}
	return out, nil
}
