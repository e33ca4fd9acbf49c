package store

import (
	"context"
	"fmt"

	"github.com/weir-dev/weir/internal/run"
)

var runsTable = table{name: "runs", defaultSort: "created_at", fields: map[string]string{
	"run_id": "id", "id": "id", "display_name": "display_name", "name": "display_name",
	"state": "phase", "created_at": "created_at", "finished_at": "finished_at", "scheduled_at": "created_at",
	"experiment_id": "experiment_id", "pipeline_id": "pipeline_id", "pipeline_version_id": "pipeline_version_id",
	"storage_state": "storage_state", "recurring_run_id": "recurring_run_id", "description": "description",
	"pipeline_name": "pipeline_name",
}}

// ListRunsPage lists runs with filters, order and paging.
func (s *Store) ListRunsPage(ctx context.Context, opts ListOptions) ([]*run.Run, Page, error) {
	var out []*run.Run
	page, err := s.list(ctx, runsTable, runCols, opts, func(r scanner) error {
		x, err := scanRun(r)
		if err == nil {
			out = append(out, x)
		}
		return err
	})
	return out, page, err
}

// RunsToDrive returns the ids of runs that have not ended, oldest first:
// what a starting server resumes and what its scheduler starts.
func (s *Store) RunsToDrive(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM runs WHERE phase IN (?, ?) ORDER BY created_at, id`, string(run.Pending), string(run.Running))
	if err != nil {
		return nil, fmt.Errorf("runs to drive: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("runs to drive: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// RequestCancel records that a run must be canceled. It reports whether the
// run had not ended yet.
func (s *Store) RequestCancel(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET cancel_requested=1 WHERE id=? AND phase IN (?, ?)`, id, string(run.Pending), string(run.Running))
	if err != nil {
		return false, fmt.Errorf("cancel run %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		if _, err := s.GetRun(ctx, id); err != nil {
			return false, err
		}
	}
	return n > 0, nil
}

// SetRunStorage archives or restores a run.
func (s *Store) SetRunStorage(ctx context.Context, id, state string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET storage_state=? WHERE id=?`, state, id)
	if err != nil {
		return fmt.Errorf("run %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteRun removes a run that has ended, with its task runs, attempts and
// lineage; artifacts other runs still reference are kept.
func (s *Store) DeleteRun(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	defer tx.Rollback()
	var phase string
	// Locked on Postgres: a concurrent retry must not reopen the run
	// between this check and the deletes.
	if err := tx.QueryRowContext(ctx, s.db.forUpdate(`SELECT phase FROM runs WHERE id=?`), id).Scan(&phase); err != nil {
		return fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if !run.Phase(phase).Terminal() {
		return fmt.Errorf("run %s is %s: %w: terminate it first", id, phase, ErrConflict)
	}
	stmts := []string{
		`DELETE FROM artifact_events WHERE task_run_id IN (SELECT id FROM task_runs WHERE run_id=?)`,
		`DELETE FROM attempts WHERE task_run_id IN (SELECT id FROM task_runs WHERE run_id=?)`,
		`DELETE FROM task_runs WHERE run_id=?`,
		`DELETE FROM artifacts WHERE run_id=? AND id NOT IN (SELECT artifact_id FROM artifact_events)`,
		`DELETE FROM runs WHERE id=?`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete run %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// TouchExperiment records when an experiment last got a run.
func (s *Store) TouchExperiment(ctx context.Context, id string, r *run.Run) error {
	_, err := s.db.ExecContext(ctx, `UPDATE experiments SET last_run_created_at=? WHERE id=?`, stamp(r.CreatedAt), id)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", id, err)
	}
	return nil
}
