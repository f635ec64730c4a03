package lifecycle

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/paotui/paotui/internal/jobs"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

const (
	// TaskExport makes one export's archive (tenant task, low queue).
	TaskExport = "lifecycle:export"
	// TaskPurge deletes a tenant once its grace period is over (tenant task, run at the
	// tenant's delete_after).
	TaskPurge = "lifecycle:purge"
	// TaskSweep is the periodic repair: overdue purges, expired and stuck exports.
	TaskSweep = "lifecycle:sweep"
	// SweepSpec is how often TaskSweep runs. Deletion is due days after it is asked for and
	// exports are kept for days, so minutes of lateness do not matter.
	SweepSpec = "@every 5m"
)

type exportData struct {
	ExportID string `json:"exportId"`
}

// NewSweepTask is the periodic lifecycle:sweep task (platform work, low queue).
func NewSweepTask() (*asynq.Task, error) {
	return jobs.NewTask(TaskSweep, 0, nil, asynq.Queue(jobs.QueueLow))
}

// HandleExport handles lifecycle:export. A failure is retried; the last allowed attempt
// marks the export failed, so the owner sees it and can ask again.
func (s *Service) HandleExport(ctx context.Context, task *asynq.Task) error {
	tenantID, data, err := jobs.Decode[exportData](task)
	if err != nil || tenantID == 0 || data.ExportID == "" {
		return fmt.Errorf("%s: bad payload (%v): %w", TaskExport, err, asynq.SkipRetry)
	}
	t, ok := tenancy.From(ctx)
	if !ok {
		if t, err = s.reg.ByID(ctx, tenantID); err != nil {
			return err
		}
	}
	err = s.RunExport(ctx, t, data.ExportID)
	if err == nil {
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if !ok || retried >= maxRetry {
		if ferr := s.failExport(context.WithoutCancel(ctx), data.ExportID, err); ferr != nil {
			s.log.Error("export failure not recorded", "export", data.ExportID, "err", ferr)
		}
		return fmt.Errorf("export %s: %w: %w", data.ExportID, err, asynq.SkipRetry)
	}
	return fmt.Errorf("export %s: %w", data.ExportID, err)
}

// HandlePurge handles lifecycle:purge for the envelope's tenant.
func (s *Service) HandlePurge(ctx context.Context, task *asynq.Task) error {
	tenantID, _, err := jobs.Decode[struct{}](task)
	if err != nil || tenantID == 0 {
		return fmt.Errorf("%s: bad payload (%v): %w", TaskPurge, err, asynq.SkipRetry)
	}
	_, err = s.Purge(ctx, tenantID)
	return err
}

// HandleSweep handles lifecycle:sweep.
func (s *Service) HandleSweep(ctx context.Context, _ *asynq.Task) error {
	return s.Sweep(ctx)
}
