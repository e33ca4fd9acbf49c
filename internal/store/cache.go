package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/weir-dev/weir/internal/run"
)

// FindCached returns the most recent succeeded task run with this cache
// key, with its last attempt and output artifacts, or nil when there is
// none.
func (s *Store) FindCached(ctx context.Context, key string) (*run.CacheHit, error) {
	var trID, runID, outs string
	err := s.db.QueryRowContext(ctx, `SELECT id, run_id, outputs FROM task_runs WHERE cache_key=? AND cache_key <> '' AND phase=? ORDER BY finished_at DESC LIMIT 1`,
		key, string(run.Succeeded)).Scan(&trID, &runID, &outs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache lookup: %w", err)
	}
	hit := &run.CacheHit{TaskRun: &run.TaskRun{ID: trID, RunID: runID}, Artifacts: map[string][]*run.Artifact{}}
	if hit.TaskRun.Outputs, err = run.DecodeValues([]byte(outs)); err != nil {
		return nil, fmt.Errorf("cache lookup: outputs of %s: %w", trID, err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT id FROM attempts WHERE task_run_id=? AND phase=? ORDER BY number DESC LIMIT 1`,
		trID, string(run.Succeeded)).Scan(&hit.AttemptID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("cache lookup: attempt of %s: %w", trID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT e.name, a.id, a.run_id, a.uri, a.schema_title, a.schema_version, a.metadata, a.digest, a.size, a.created_at
		FROM artifact_events e JOIN artifacts a ON a.id = e.artifact_id WHERE e.task_run_id=? AND e.kind=? ORDER BY e.name, e.idx`, trID, string(run.EventOutput))
	if err != nil {
		return nil, fmt.Errorf("cache lookup: artifacts of %s: %w", trID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		a, err := scanArtifactWith(rows, &name)
		if err != nil {
			return nil, fmt.Errorf("cache lookup: %w", err)
		}
		hit.Artifacts[name] = append(hit.Artifacts[name], a)
	}
	return hit, rows.Err()
}

// ArtifactByURI returns the most recently recorded artifact with this URI,
// or nil.
func (s *Store) ArtifactByURI(ctx context.Context, uri string) (*run.Artifact, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, run_id, uri, schema_title, schema_version, metadata, digest, size, created_at FROM artifacts WHERE uri=? ORDER BY created_at DESC LIMIT 1`, uri)
	a, err := scanArtifactWith(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", uri, err)
	}
	return a, nil
}

// scanArtifactWith scans an artifact row, preceded by any extra columns.
func scanArtifactWith(row scanner, extra ...any) (*run.Artifact, error) {
	var a run.Artifact
	var md string
	var created int64
	dest := append(extra, &a.ID, &a.RunID, &a.URI, &a.SchemaTitle, &a.SchemaVersion, &md, &a.Digest, &a.Size, &created)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if a.Metadata, err = run.DecodeValues([]byte(md)); err != nil {
		return nil, fmt.Errorf("artifact %s metadata: %w", a.URI, err)
	}
	a.CreatedAt = fromStamp(created)
	return &a, nil
}
