package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/weir-dev/weir/internal/run"
)

// ArtifactByID returns the artifact recorded with this id.
func (s *Store) ArtifactByID(ctx context.Context, id string) (*run.Artifact, error) {
	row := s.db.QueryRowContext(ctx, `SELECT id, run_id, uri, schema_title, schema_version, metadata, digest, size, created_at FROM artifacts WHERE id=?`, id)
	a, err := scanArtifactWith(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("artifact %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("artifact %s: %w", id, err)
	}
	return a, nil
}

// LineageEdge is one lineage event of an artifact with the task it names
// located: the run, the task path and the attempt number.
type LineageEdge struct {
	run.ArtifactEvent
	RunID    string
	RunName  string
	TaskPath string
	// Attempt is the attempt's number, 0 when the event names no attempt
	// (an importer, a DAG's output, a cached result).
	Attempt int
}

// ArtifactLineage returns every event that mentions an artifact, across
// runs, oldest first, each with its run, task path and attempt number.
func (s *Store) ArtifactLineage(ctx context.Context, artifactID string) ([]LineageEdge, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.artifact_id, e.task_run_id, e.attempt_id, e.kind, e.name, e.idx, e.created_at,
		COALESCE(t.run_id, ''), COALESCE(t.path, ''), COALESCE(r.display_name, ''), COALESCE(a.number, 0)
		FROM artifact_events e
		LEFT JOIN task_runs t ON t.id = e.task_run_id
		LEFT JOIN runs r ON r.id = t.run_id
		LEFT JOIN attempts a ON a.id = e.attempt_id AND e.attempt_id <> ''
		WHERE e.artifact_id=? ORDER BY e.created_at, e.kind DESC, t.run_id, t.path, e.name, e.idx`, artifactID)
	if err != nil {
		return nil, fmt.Errorf("lineage of %s: %w", artifactID, err)
	}
	defer rows.Close()
	var out []LineageEdge
	for rows.Next() {
		var l LineageEdge
		var kind string
		var created int64
		if err := rows.Scan(&l.ArtifactID, &l.TaskRunID, &l.AttemptID, &kind, &l.Name, &l.Index, &created,
			&l.RunID, &l.TaskPath, &l.RunName, &l.Attempt); err != nil {
			return nil, fmt.Errorf("lineage of %s: %w", artifactID, err)
		}
		l.Kind = run.EventKind(kind)
		l.CreatedAt = fromStamp(created)
		out = append(out, l)
	}
	return out, rows.Err()
}
