package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/weir-dev/weir/internal/run"
)

const runCols = `id, pipeline_name, display_name, spec, spec_file, parameters, pipeline_root, options, phase, error, created_at, started_at, finished_at,
	experiment_id, pipeline_id, pipeline_version_id, description, storage_state, service_account, recurring_run_id, cancel_requested, journal_seq`

type scanner interface{ Scan(...any) error }

func scanRun(row scanner) (*run.Run, error) {
	var r run.Run
	var params, opts, phase string
	var created, started, finished int64
	if err := row.Scan(&r.ID, &r.PipelineName, &r.DisplayName, &r.Spec, &r.SpecFile, &params, &r.PipelineRoot, &opts, &phase, &r.Error, &created, &started, &finished,
		&r.ExperimentID, &r.PipelineID, &r.PipelineVersionID, &r.Description, &r.StorageState, &r.ServiceAccount, &r.RecurringRunID, &r.CancelRequested, &r.JournalSeq); err != nil {
		return nil, err
	}
	var err error
	if r.Parameters, err = run.DecodeValues([]byte(params)); err != nil {
		return nil, fmt.Errorf("decode run %s parameters: %w", r.ID, err)
	}
	if err := decodeJSON(opts, &r.Options); err != nil {
		return nil, fmt.Errorf("decode run %s options: %w", r.ID, err)
	}
	if r.Phase, err = run.ParsePhase(phase); err != nil {
		return nil, fmt.Errorf("run %s: %w", r.ID, err)
	}
	r.CreatedAt, r.StartedAt, r.FinishedAt = fromStamp(created), fromStamp(started), fromStamp(finished)
	return &r, nil
}

// GetRun returns the run with this id, or the only run whose id starts with
// it.
func (s *Store) GetRun(ctx context.Context, id string) (*run.Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id=?`, id))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM runs WHERE id LIKE ? ESCAPE '\' LIMIT 2`, escapeLike(id)+"%")
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	defer rows.Close()
	var found []*run.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("get run %s: %w", id, err)
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("run %s: %w", id, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("run id prefix %q is ambiguous", id)
}

// ListRuns returns up to limit runs, newest first.
func (s *Store) ListRuns(ctx context.Context, limit int) ([]*run.Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY created_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []*run.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Snapshot loads a run with its task runs, attempts, artifacts and lineage
// events.
func (s *Store) Snapshot(ctx context.Context, runID string) (*run.Snapshot, error) {
	r, err := s.GetRun(ctx, runID)
	if err != nil {
		return nil, err
	}
	snap := &run.Snapshot{Run: r}
	if snap.TaskRuns, err = s.taskRuns(ctx, r.ID); err != nil {
		return nil, err
	}
	if snap.Attempts, err = s.attempts(ctx, r.ID); err != nil {
		return nil, err
	}
	if snap.Artifacts, err = s.artifacts(ctx, r.ID); err != nil {
		return nil, err
	}
	if snap.Events, err = s.events(ctx, r.ID); err != nil {
		return nil, err
	}
	return snap, nil
}

func (s *Store) taskRuns(ctx context.Context, runID string) ([]*run.TaskRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, run_id, path, name, parent_id, component, kind, phase, error, inputs, outputs, cache_key, cached_from, created_at, started_at, finished_at FROM task_runs WHERE run_id=? ORDER BY created_at, path`, runID)
	if err != nil {
		return nil, fmt.Errorf("list task runs of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []*run.TaskRun
	for rows.Next() {
		var t run.TaskRun
		var kind, phase, in, outs string
		var created, started, finished int64
		if err := rows.Scan(&t.ID, &t.RunID, &t.Path, &t.Name, &t.ParentID, &t.Component, &kind, &phase, &t.Error, &in, &outs, &t.CacheKey, &t.CachedFrom, &created, &started, &finished); err != nil {
			return nil, fmt.Errorf("list task runs of %s: %w", runID, err)
		}
		t.Kind = run.Kind(kind)
		if t.Phase, err = run.ParsePhase(phase); err != nil {
			return nil, fmt.Errorf("task run %s: %w", t.Path, err)
		}
		if t.Inputs, err = run.DecodeValues([]byte(in)); err != nil {
			return nil, fmt.Errorf("task run %s inputs: %w", t.Path, err)
		}
		if t.Outputs, err = run.DecodeValues([]byte(outs)); err != nil {
			return nil, fmt.Errorf("task run %s outputs: %w", t.Path, err)
		}
		t.CreatedAt, t.StartedAt, t.FinishedAt = fromStamp(created), fromStamp(started), fromStamp(finished)
		out = append(out, &t)
	}
	return out, rows.Err()
}

func (s *Store) attempts(ctx context.Context, runID string) ([]*run.Attempt, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.task_run_id, a.number, a.phase, a.handle, a.exit_code, a.error, a.log_path, a.created_at, a.started_at, a.finished_at FROM attempts a JOIN task_runs t ON t.id = a.task_run_id WHERE t.run_id=? ORDER BY a.task_run_id, a.number`, runID)
	if err != nil {
		return nil, fmt.Errorf("list attempts of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []*run.Attempt
	for rows.Next() {
		var a run.Attempt
		var phase string
		var code sql.NullInt64
		var created, started, finished int64
		if err := rows.Scan(&a.ID, &a.TaskRunID, &a.Number, &phase, &a.Handle, &code, &a.Error, &a.LogPath, &created, &started, &finished); err != nil {
			return nil, fmt.Errorf("list attempts of %s: %w", runID, err)
		}
		if a.Phase, err = run.ParsePhase(phase); err != nil {
			return nil, fmt.Errorf("attempt %s: %w", a.ID, err)
		}
		if code.Valid {
			c := int(code.Int64)
			a.ExitCode = &c
		}
		a.CreatedAt, a.StartedAt, a.FinishedAt = fromStamp(created), fromStamp(started), fromStamp(finished)
		out = append(out, &a)
	}
	return out, rows.Err()
}

func (s *Store) artifacts(ctx context.Context, runID string) ([]*run.Artifact, error) {
	// A run's artifacts are the ones it produced and the ones its tasks
	// consumed (possibly produced by another run).
	rows, err := s.db.QueryContext(ctx, `SELECT id, run_id, uri, schema_title, schema_version, metadata, digest, size, created_at FROM artifacts WHERE run_id=?
		UNION SELECT a.id, a.run_id, a.uri, a.schema_title, a.schema_version, a.metadata, a.digest, a.size, a.created_at FROM artifacts a
		JOIN artifact_events e ON e.artifact_id = a.id JOIN task_runs t ON t.id = e.task_run_id WHERE t.run_id=?`, runID, runID)
	if err != nil {
		return nil, fmt.Errorf("list artifacts of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []*run.Artifact
	for rows.Next() {
		a, err := scanArtifactWith(rows)
		if err != nil {
			return nil, fmt.Errorf("list artifacts of %s: %w", runID, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *Store) events(ctx context.Context, runID string) ([]*run.ArtifactEvent, error) {
	out, err := s.queryEvents(ctx, `SELECT e.artifact_id, e.task_run_id, e.attempt_id, e.kind, e.name, e.idx, e.created_at FROM artifact_events e JOIN task_runs t ON t.id = e.task_run_id WHERE t.run_id=? ORDER BY e.task_run_id, e.kind, e.name, e.idx`, runID)
	if err != nil {
		return nil, fmt.Errorf("list lineage of %s: %w", runID, err)
	}
	return out, nil
}

// Lineage returns the events that mention an artifact: its producer and its
// consumers, across runs.
func (s *Store) Lineage(ctx context.Context, artifactID string) ([]*run.ArtifactEvent, error) {
	out, err := s.queryEvents(ctx, `SELECT artifact_id, task_run_id, attempt_id, kind, name, idx, created_at FROM artifact_events WHERE artifact_id=? ORDER BY created_at`, artifactID)
	if err != nil {
		return nil, fmt.Errorf("lineage of %s: %w", artifactID, err)
	}
	return out, nil
}

func (s *Store) queryEvents(ctx context.Context, query string, arg any) ([]*run.ArtifactEvent, error) {
	rows, err := s.db.QueryContext(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*run.ArtifactEvent
	for rows.Next() {
		var e run.ArtifactEvent
		var kind string
		var created int64
		if err := rows.Scan(&e.ArtifactID, &e.TaskRunID, &e.AttemptID, &kind, &e.Name, &e.Index, &created); err != nil {
			return nil, err
		}
		e.Kind = run.EventKind(kind)
		e.CreatedAt = fromStamp(created)
		out = append(out, &e)
	}
	return out, rows.Err()
}

func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

func escapeLike(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '_' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
