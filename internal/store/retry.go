package store

import (
	"context"
	"fmt"

	"github.com/weir-dev/weir/internal/run"
)

// RetryRun reopens a run that ended badly, and the task runs listed, in
// one transaction. Attempts are left untouched: every old attempt is kept.
func (s *Store) RetryRun(ctx context.Context, runID string, tasks []run.Reopen) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("retry run %s: %w", runID, err)
	}
	defer tx.Rollback()
	var cur string
	if err := tx.QueryRowContext(ctx, `SELECT phase FROM runs WHERE id=?`, runID).Scan(&cur); err != nil {
		return fmt.Errorf("retry run %s: %w", runID, ErrNotFound)
	}
	if err := run.CheckRetry("run", runID, run.Phase(cur), run.Running); err != nil {
		return fmt.Errorf("retry run %s: %w: only a failed or canceled run can be retried (it is %s)", runID, ErrConflict, cur)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET phase=?, error='', finished_at=0, cancel_requested=0 WHERE id=?`, string(run.Running), runID); err != nil {
		return fmt.Errorf("retry run %s: %w", runID, err)
	}
	for _, t := range tasks {
		var phase string
		if err := tx.QueryRowContext(ctx, `SELECT phase FROM task_runs WHERE id=? AND run_id=?`, t.TaskRunID, runID).Scan(&phase); err != nil {
			return fmt.Errorf("retry run %s: task run %s: %w", runID, t.TaskRunID, ErrNotFound)
		}
		if err := run.CheckRetry("task run", t.TaskRunID, run.Phase(phase), t.Phase); err != nil {
			return fmt.Errorf("retry run %s: %w", runID, err)
		}
		q := `UPDATE task_runs SET phase=?, error='', finished_at=0 WHERE id=?`
		if t.Phase == run.Pending {
			q = `UPDATE task_runs SET phase=?, error='', finished_at=0, started_at=0, outputs='{}' WHERE id=?`
		}
		if _, err := tx.ExecContext(ctx, q, string(t.Phase), t.TaskRunID); err != nil {
			return fmt.Errorf("retry run %s: %w", runID, err)
		}
	}
	return tx.Commit()
}
