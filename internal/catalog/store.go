package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
)

const columns = `key, name_zh, name_en, enabled, sort, fields, pricing, service_hours, courier_share_bp, version, updated_at`

// row is task_types as stored; the JSON documents are decoded by taskType.
type row struct {
	Key            string    `gorm:"column:key"`
	NameZH         string    `gorm:"column:name_zh"`
	NameEN         string    `gorm:"column:name_en"`
	Enabled        bool      `gorm:"column:enabled"`
	Sort           int       `gorm:"column:sort"`
	Fields         []byte    `gorm:"column:fields"`
	Pricing        []byte    `gorm:"column:pricing"`
	ServiceHours   []byte    `gorm:"column:service_hours"`
	CourierShareBP *int      `gorm:"column:courier_share_bp"`
	Version        int       `gorm:"column:version"`
	UpdatedAt      time.Time `gorm:"column:updated_at"`
}

func (r row) taskType() (TaskType, error) {
	t := TaskType{Key: r.Key, Name: Text{ZH: r.NameZH, EN: r.NameEN}, Enabled: r.Enabled, Sort: r.Sort,
		CourierShareBP: r.CourierShareBP, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC()}
	if err := json.Unmarshal(r.Fields, &t.Fields); err != nil {
		return TaskType{}, fmt.Errorf("task type %s: fields: %w", r.Key, err)
	}
	if t.Fields == nil {
		t.Fields = []Field{}
	}
	if err := json.Unmarshal(r.Pricing, &t.Pricing); err != nil {
		return TaskType{}, fmt.Errorf("task type %s: pricing: %w", r.Key, err)
	}
	if r.ServiceHours != nil {
		if err := json.Unmarshal(r.ServiceHours, &t.ServiceHours); err != nil {
			return TaskType{}, fmt.Errorf("task type %s: service hours: %w", r.Key, err)
		}
	}
	return t, nil
}

func taskTypes(rows []row) ([]TaskType, error) {
	out := make([]TaskType, 0, len(rows))
	for _, r := range rows {
		t, err := r.taskType()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// docs are a normalized TaskType's JSON columns as query arguments (service hours may be NULL).
type docs struct {
	fields, pricing string
	hours           any
}

func documents(t TaskType) (docs, error) {
	var d docs
	fields, err := json.Marshal(t.Fields)
	if err != nil {
		return d, fmt.Errorf("encode fields: %w", err)
	}
	pricing, err := json.Marshal(t.Pricing)
	if err != nil {
		return d, fmt.Errorf("encode pricing: %w", err)
	}
	d.fields, d.pricing = string(fields), string(pricing)
	if t.ServiceHours != nil {
		hours, err := json.Marshal(t.ServiceHours)
		if err != nil {
			return d, fmt.Errorf("encode service hours: %w", err)
		}
		d.hours = string(hours)
	}
	return d, nil
}

// List returns the tenant's task types in display order (sort, then key). Students see only
// enabled ones (includeDisabled false); admins see all.
func List(tx *gorm.DB, includeDisabled bool) ([]TaskType, error) {
	var rows []row
	if err := tx.Raw(`SELECT `+columns+` FROM task_types WHERE enabled OR ? ORDER BY sort, key`, includeDisabled).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list task types: %w", err)
	}
	return taskTypes(rows)
}

// Get returns the task type key, enabled or not, or ErrNotFound.
func Get(tx *gorm.DB, key string) (TaskType, error) {
	if !keyPattern.MatchString(key) {
		return TaskType{}, fmt.Errorf("task type %q: %w", key, ErrNotFound)
	}
	var rows []row
	if err := tx.Raw(`SELECT `+columns+` FROM task_types WHERE key = ?`, key).Scan(&rows).Error; err != nil {
		return TaskType{}, fmt.Errorf("get task type %s: %w", key, err)
	}
	if len(rows) == 0 {
		return TaskType{}, fmt.Errorf("task type %s: %w", key, ErrNotFound)
	}
	return rows[0].taskType()
}

// Create adds t after the existing types (t.Sort is ignored; Reorder moves it) at version 1.
// It returns a *ValidationError (ErrInvalid) naming the first rule t breaks, or ErrDuplicate
// when the key is taken.
func Create(tx *gorm.DB, t TaskType) (TaskType, error) {
	t.normalize()
	if err := t.validate(); err != nil {
		return TaskType{}, err
	}
	d, err := documents(t)
	if err != nil {
		return TaskType{}, err
	}
	// DO NOTHING rather than catching the unique violation: an error would abort the caller's
	// whole transaction, while a duplicate key is an ordinary answer to give the admin.
	var rows []row
	err = tx.Raw(`INSERT INTO task_types (key, name_zh, name_en, enabled, sort, fields, pricing, service_hours, courier_share_bp)
		SELECT ?::text, ?::text, ?::text, ?::boolean, coalesce(max(sort) + 1, 0), ?::jsonb, ?::jsonb, ?::jsonb, ?::integer
		FROM task_types
		ON CONFLICT (key) DO NOTHING
		RETURNING `+columns,
		t.Key, t.Name.ZH, t.Name.EN, t.Enabled, d.fields, d.pricing, d.hours, t.CourierShareBP).Scan(&rows).Error
	if err != nil {
		return TaskType{}, fmt.Errorf("create task type %s: %w", t.Key, err)
	}
	if len(rows) == 0 {
		return TaskType{}, fmt.Errorf("task type %s: %w", t.Key, ErrDuplicate)
	}
	return rows[0].taskType()
}

// Update replaces everything an admin edits (name, enabled, fields, pricing, service hours,
// courier share) of task type key, provided it is still at expectedVersion, and returns it at
// its new version. The key cannot change (t.Key must be empty or key) and the position is
// Reorder's. Errors: ErrNotFound, ErrVersionConflict when someone else changed the type since
// the caller read it, *ValidationError (ErrInvalid).
func Update(tx *gorm.DB, key string, t TaskType, expectedVersion int) (TaskType, error) {
	if !keyPattern.MatchString(key) {
		return TaskType{}, fmt.Errorf("task type %q: %w", key, ErrNotFound)
	}
	t.normalize()
	if t.Key == "" {
		t.Key = key
	} else if t.Key != key {
		return TaskType{}, invalid("key", "cannot be changed; orders refer to it")
	}
	if err := t.validate(); err != nil {
		return TaskType{}, err
	}
	d, err := documents(t)
	if err != nil {
		return TaskType{}, err
	}
	var rows []row
	err = tx.Raw(`UPDATE task_types SET name_zh = ?, name_en = ?, enabled = ?, fields = ?::jsonb, pricing = ?::jsonb,
			service_hours = ?::jsonb, courier_share_bp = ?, version = version + 1, updated_at = now()
		WHERE key = ? AND version = ?
		RETURNING `+columns,
		t.Name.ZH, t.Name.EN, t.Enabled, d.fields, d.pricing, d.hours, t.CourierShareBP, key, expectedVersion).
		Scan(&rows).Error
	if err != nil {
		return TaskType{}, fmt.Errorf("update task type %s: %w", key, err)
	}
	if len(rows) == 1 {
		return rows[0].taskType()
	}
	if _, err := Get(tx, key); err != nil {
		return TaskType{}, err
	}
	return TaskType{}, fmt.Errorf("task type %s at version %d: %w", key, expectedVersion, ErrVersionConflict)
}

// SetEnabled offers (true) or withdraws (false) task type key; orders already placed are not
// touched. Setting the state it already has changes nothing. ErrNotFound for an unknown key.
func SetEnabled(tx *gorm.DB, key string, enabled bool) error {
	if !keyPattern.MatchString(key) {
		return fmt.Errorf("task type %q: %w", key, ErrNotFound)
	}
	res := tx.Exec(`UPDATE task_types SET enabled = ?, version = version + 1, updated_at = now()
		WHERE key = ? AND enabled <> ?`, enabled, key, enabled)
	if res.Error != nil {
		return fmt.Errorf("set task type %s enabled=%t: %w", key, enabled, res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := Get(tx, key); err != nil {
			return err
		}
	}
	return nil
}

// Reorder puts the task types in the order of keys, which must name every existing type
// exactly once; anything else is a *ValidationError (ErrInvalid), so a stale admin page that
// misses a type created meanwhile cannot silently drop it to an arbitrary place. Types whose
// position changes move to a new version.
func Reorder(tx *gorm.DB, keys []string) error {
	var existing []string
	// FOR UPDATE: two concurrent reorders are applied one after the other, not interleaved.
	if err := tx.Raw(`SELECT key FROM task_types ORDER BY key FOR UPDATE`).Scan(&existing).Error; err != nil {
		return fmt.Errorf("reorder task types: %w", err)
	}
	have := make(map[string]bool, len(existing))
	for _, k := range existing {
		have[k] = true
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		at := fmt.Sprintf("keys[%d]", i)
		if !have[k] {
			return invalid(at, "unknown task type %q", k)
		}
		if seen[k] {
			return invalid(at, "task type %q is listed twice", k)
		}
		seen[k] = true
	}
	for _, k := range existing {
		if !seen[k] {
			return invalid("keys", "task type %q is missing", k)
		}
	}
	doc, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("reorder task types: %w", err)
	}
	err = tx.Exec(`UPDATE task_types t SET sort = o.ordinality - 1, version = t.version + 1, updated_at = now()
		FROM jsonb_array_elements_text(?::jsonb) WITH ORDINALITY AS o (key, ordinality)
		WHERE t.key = o.key AND t.sort <> o.ordinality - 1`, string(doc)).Error
	if err != nil {
		return fmt.Errorf("reorder task types: %w", err)
	}
	return nil
}

// SeedFromBlueprint adds the blueprint's task types in blueprint order. Types the tenant
// already has are left as they are, so it is safe to run again (provisioning retries) and
// never undoes what the team changed since. A blueprint type that breaks this package's rules
// is an error and nothing is added.
func SeedFromBlueprint(tx *gorm.DB, bp *blueprint.Blueprint) error {
	if bp == nil {
		return errors.New("seed task types: no blueprint")
	}
	types := make([]TaskType, len(bp.TaskTypes))
	for i, b := range bp.TaskTypes {
		t := FromBlueprint(b)
		t.Sort = i
		t.normalize()
		if err := t.validate(); err != nil {
			return fmt.Errorf("blueprint %s: task_types[%d]: %w", bp.Name, i, err)
		}
		types[i] = t
	}
	for _, t := range types {
		d, err := documents(t)
		if err != nil {
			return err
		}
		err = tx.Exec(`INSERT INTO task_types (key, name_zh, name_en, enabled, sort, fields, pricing, service_hours, courier_share_bp)
			VALUES (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?)
			ON CONFLICT (key) DO NOTHING`,
			t.Key, t.Name.ZH, t.Name.EN, t.Enabled, t.Sort, d.fields, d.pricing, d.hours, t.CourierShareBP).Error
		if err != nil {
			return fmt.Errorf("seed task type %s: %w", t.Key, err)
		}
	}
	return nil
}
