package catalog

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/store"
)

// Service runs the tenant admin's task type settings. Each change is one tenant transaction
// holding the change and its audit entry, so no change goes unrecorded and no entry describes a
// change that rolled back. Errors are the package's (ErrNotFound, ErrDuplicate,
// ErrVersionConflict, *ValidationError).
type Service struct {
	db *store.DB
}

// NewService returns the task type service over db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// reservedKey cannot be a task type key: the admin API's PUT /admin/task-types/order is the
// reorder operation, so a type of that key could never be edited.
const reservedKey = "order"

// List returns one page of the task types in display order and how many there are; admins
// (includeDisabled) see disabled ones too. A tenant has a handful of types, so the page is cut
// from the full list.
func (s *Service) List(ctx context.Context, t store.Scope, includeDisabled bool, limit, offset int) ([]TaskType, int, error) {
	var all []TaskType
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		all, err = List(tx, includeDisabled)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	total := len(all)
	offset = min(max(offset, 0), total)
	end := total
	if limit > 0 {
		end = min(offset+limit, total)
	}
	return all[offset:end], total, nil
}

// Create adds a task type after the existing ones; by names the actor and IP for the audit
// entry. See Create for the rules.
func (s *Service) Create(ctx context.Context, t store.Scope, tt TaskType, by audit.Entry) (TaskType, error) {
	if strings.TrimSpace(tt.Key) == reservedKey {
		return TaskType{}, invalid("key", "%q is reserved; choose another key", reservedKey)
	}
	var out TaskType
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		if out, err = Create(tx, tt); err != nil {
			return err
		}
		return record(tx, by, "settings.task_type.create", out)
	})
	if err != nil {
		return TaskType{}, err
	}
	return out, nil
}

// Update replaces what an admin edits of task type key if it is still at expectedVersion
// (ErrVersionConflict otherwise). See Update for the rules.
func (s *Service) Update(ctx context.Context, t store.Scope, key string, tt TaskType, expectedVersion int, by audit.Entry) (TaskType, error) {
	var out TaskType
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		if out, err = Update(tx, key, tt, expectedVersion); err != nil {
			return err
		}
		return record(tx, by, "settings.task_type.update", out)
	})
	if err != nil {
		return TaskType{}, err
	}
	return out, nil
}

// SetEnabled offers or withdraws task type key and returns it as it now is.
func (s *Service) SetEnabled(ctx context.Context, t store.Scope, key string, enabled bool, by audit.Entry) (TaskType, error) {
	action := "settings.task_type.disable"
	if enabled {
		action = "settings.task_type.enable"
	}
	var out TaskType
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := SetEnabled(tx, key, enabled); err != nil {
			return err
		}
		var err error
		if out, err = Get(tx, key); err != nil {
			return err
		}
		return record(tx, by, action, out)
	})
	if err != nil {
		return TaskType{}, err
	}
	return out, nil
}

// Reorder puts the task types in the order of keys (every key exactly once) and returns them
// all, disabled ones included, in their new order.
func (s *Service) Reorder(ctx context.Context, t store.Scope, keys []string, by audit.Entry) ([]TaskType, error) {
	var out []TaskType
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := Reorder(tx, keys); err != nil {
			return err
		}
		var err error
		if out, err = List(tx, true); err != nil {
			return err
		}
		by.Action, by.Target, by.Meta = "settings.task_type.reorder", "task_types", map[string]any{"keys": keys}
		return audit.Record(tx, by)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func record(tx *gorm.DB, by audit.Entry, action string, tt TaskType) error {
	by.Action, by.Target, by.Meta = action, "task_type:"+tt.Key, map[string]any{"version": tt.Version}
	return audit.Record(tx, by)
}
