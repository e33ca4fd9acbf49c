package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

const recurringCols = `id, display_name, description, experiment_id, pipeline_id, pipeline_version_id, spec, parameters, pipeline_root, service_account,
	cron, interval_seconds, start_at, end_at, max_concurrency, no_catchup, enabled, namespace, created_at, updated_at, last_scheduled_at`

func scanRecurring(row scanner) (*run.RecurringRun, error) {
	var r run.RecurringRun
	var params string
	var interval, start, end, created, updated, last int64
	if err := row.Scan(&r.ID, &r.DisplayName, &r.Description, &r.ExperimentID, &r.PipelineID, &r.PipelineVersionID, &r.Spec, &params,
		&r.PipelineRoot, &r.ServiceAccount, &r.Cron, &interval, &start, &end, &r.MaxConcurrency, &r.NoCatchup, &r.Enabled, &r.Namespace,
		&created, &updated, &last); err != nil {
		return nil, err
	}
	var err error
	if r.Parameters, err = run.DecodeValues([]byte(params)); err != nil {
		return nil, fmt.Errorf("recurring run %s parameters: %w", r.ID, err)
	}
	r.Interval = time.Duration(interval) * time.Second
	r.StartAt, r.EndAt, r.CreatedAt, r.UpdatedAt, r.LastScheduledAt = fromStamp(start), fromStamp(end), fromStamp(created), fromStamp(updated), fromStamp(last)
	return &r, nil
}

// CreateRecurringRun stores a schedule.
func (s *Store) CreateRecurringRun(ctx context.Context, r *run.RecurringRun) error {
	params, err := json.Marshal(orEmpty(r.Parameters))
	if err != nil {
		return fmt.Errorf("recurring run %s parameters: %w", r.DisplayName, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO recurring_runs (`+recurringCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.ID, r.DisplayName, r.Description, r.ExperimentID, r.PipelineID, r.PipelineVersionID, r.Spec, string(params), r.PipelineRoot, r.ServiceAccount,
		r.Cron, int64(r.Interval/time.Second), stamp(r.StartAt), stamp(r.EndAt), r.MaxConcurrency, r.NoCatchup, r.Enabled, r.Namespace,
		stamp(r.CreatedAt), stamp(r.UpdatedAt), stamp(r.LastScheduledAt))
	if err != nil {
		return fmt.Errorf("create recurring run %s: %w", r.DisplayName, err)
	}
	return nil
}

// GetRecurringRun returns a schedule by id.
func (s *Store) GetRecurringRun(ctx context.Context, id string) (*run.RecurringRun, error) {
	r, err := scanRecurring(s.db.QueryRowContext(ctx, `SELECT `+recurringCols+` FROM recurring_runs WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("recurring run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get recurring run %s: %w", id, err)
	}
	return r, nil
}

var recurringTable = table{name: "recurring_runs", defaultSort: "created_at", fields: map[string]string{
	"recurring_run_id": "id", "id": "id", "display_name": "display_name", "name": "display_name",
	"experiment_id": "experiment_id", "created_at": "created_at", "updated_at": "updated_at", "namespace": "namespace",
}}

// ListRecurringRuns lists schedules.
func (s *Store) ListRecurringRuns(ctx context.Context, opts ListOptions) ([]*run.RecurringRun, Page, error) {
	var out []*run.RecurringRun
	page, err := s.list(ctx, recurringTable, recurringCols, opts, func(r scanner) error {
		x, err := scanRecurring(r)
		if err == nil {
			out = append(out, x)
		}
		return err
	})
	return out, page, err
}

// SetRecurringEnabled enables or disables a schedule.
func (s *Store) SetRecurringEnabled(ctx context.Context, id string, enabled bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE recurring_runs SET enabled=?, updated_at=? WHERE id=?`, enabled, stamp(time.Now()), id)
	if err != nil {
		return fmt.Errorf("recurring run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recurring run %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteRecurringRun removes a schedule (its runs stay).
func (s *Store) DeleteRecurringRun(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM recurring_runs WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete recurring run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recurring run %s: %w", id, ErrNotFound)
	}
	return nil
}

// EnabledRecurringRuns returns the schedules that may fire.
func (s *Store) EnabledRecurringRuns(ctx context.Context) ([]*run.RecurringRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+recurringCols+` FROM recurring_runs WHERE enabled=? ORDER BY id`, true)
	if err != nil {
		return nil, fmt.Errorf("enabled recurring runs: %w", err)
	}
	defer rows.Close()
	var out []*run.RecurringRun
	for rows.Next() {
		r, err := scanRecurring(rows)
		if err != nil {
			return nil, fmt.Errorf("enabled recurring runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ActiveRunsOf counts a schedule's runs that have not ended.
func (s *Store) ActiveRunsOf(ctx context.Context, recurringID string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE recurring_run_id=? AND phase IN (?, ?)`,
		recurringID, string(run.Pending), string(run.Running)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("active runs of %s: %w", recurringID, err)
	}
	return n, nil
}

// FireRecurring stores the run a schedule starts for scheduledAt, and
// advances the schedule, in one transaction: a restart never starts the
// same scheduled run twice. It reports false when that time was already
// fired.
func (s *Store) FireRecurring(ctx context.Context, recurringID string, scheduledAt time.Time, r *run.Run) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("fire recurring run %s: %w", recurringID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE recurring_runs SET last_scheduled_at=? WHERE id=? AND last_scheduled_at < ? AND enabled=?`,
		stamp(scheduledAt), recurringID, stamp(scheduledAt), true)
	if err != nil {
		return false, fmt.Errorf("fire recurring run %s: %w", recurringID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := s.insertRun(ctx, tx, r); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
