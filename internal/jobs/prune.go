package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/store"
)

// TypePrune deletes relayed outbox rows past their retention. It is platform work (tenant 0)
// meant to be registered once on the Scheduler, e.g. hourly.
const TypePrune = "outbox:prune"

// pruneBatch bounds one DELETE so pruning a large backlog never holds many row locks at once.
const pruneBatch = 5000

// Pruner removes relayed outbox rows once they are older than the retention. Rows still
// pending are never touched, however old: they are work not yet done.
type Pruner struct {
	db        *store.DB
	retention time.Duration
}

// NewPruner prunes db with cfg.OutboxRetention.
func NewPruner(db *store.DB, cfg config.Jobs) *Pruner {
	return &Pruner{db: db, retention: cfg.OutboxRetention}
}

// NewPruneTask is the periodic outbox:prune task, on the low queue.
func NewPruneTask() (*asynq.Task, error) {
	return NewTask(TypePrune, 0, nil, asynq.Queue(QueueLow))
}

// HandlePrune handles outbox:prune.
func (p *Pruner) HandlePrune(ctx context.Context, _ *asynq.Task) error {
	_, err := p.Prune(ctx)
	return err
}

// Prune deletes rows relayed more than the retention ago, in batches, and returns how many.
func (p *Pruner) Prune(ctx context.Context) (int64, error) {
	var total int64
	for {
		res := p.db.Gorm.WithContext(ctx).Exec(`DELETE FROM public.outbox WHERE id IN (
				SELECT id FROM public.outbox
				WHERE relayed_at < now() - make_interval(secs => ?)
				LIMIT ?)`, p.retention.Seconds(), pruneBatch)
		if res.Error != nil {
			return total, fmt.Errorf("prune outbox: %w", res.Error)
		}
		total += res.RowsAffected
		if res.RowsAffected < pruneBatch {
			return total, nil
		}
	}
}
