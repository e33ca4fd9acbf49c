package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/weir-dev/weir/internal/run"
)

// ErrConflict is returned when a unique name is already taken, or a row
// cannot be removed because others depend on it.
var ErrConflict = run.ErrConflict

// isUnique reports whether err is a unique (or primary key) violation, on
// either dialect.
func isUnique(err error) bool { return violated(err) == uniqueConstraint }

// isForeignKey reports whether err is a foreign key violation, on either
// dialect.
func isForeignKey(err error) bool { return violated(err) == foreignKeyConstraint }

func sortStrings(s []string) { sort.Strings(s) }

// CreatePipeline stores a pipeline and its first version together.
func (s *Store) CreatePipeline(ctx context.Context, p *run.Pipeline, v *run.PipelineVersion) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create pipeline: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO pipelines (id, name, display_name, description, namespace, created_at) VALUES (?,?,?,?,?,?)`,
		p.ID, p.Name, p.DisplayName, p.Description, p.Namespace, stamp(p.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("pipeline %q: %w: a pipeline with this name exists", p.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create pipeline %s: %w", p.Name, err)
	}
	if v != nil {
		if err := insertVersion(ctx, tx, v); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CreatePipelineVersion adds a version to a pipeline.
func (s *Store) CreatePipelineVersion(ctx context.Context, v *run.PipelineVersion) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create pipeline version: %w", err)
	}
	defer tx.Rollback()
	if err := insertVersion(ctx, tx, v); err != nil {
		return err
	}
	return tx.Commit()
}

func insertVersion(ctx context.Context, tx *sqlTx, v *run.PipelineVersion) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pipeline_versions (id, pipeline_id, name, display_name, description, spec, created_at) VALUES (?,?,?,?,?,?,?)`,
		v.ID, v.PipelineID, v.Name, v.DisplayName, v.Description, v.Spec, stamp(v.CreatedAt))
	switch {
	case isUnique(err):
		return fmt.Errorf("pipeline version %q: %w: the pipeline has a version with this name", v.Name, ErrConflict)
	case isForeignKey(err):
		return fmt.Errorf("pipeline %s: %w", v.PipelineID, ErrNotFound)
	case err != nil:
		return fmt.Errorf("create pipeline version %s: %w", v.Name, err)
	}
	return nil
}

const pipelineCols = `id, name, display_name, description, namespace, created_at`

func scanPipeline(row scanner) (*run.Pipeline, error) {
	var p run.Pipeline
	var created int64
	if err := row.Scan(&p.ID, &p.Name, &p.DisplayName, &p.Description, &p.Namespace, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromStamp(created)
	return &p, nil
}

// GetPipeline returns a pipeline by id.
func (s *Store) GetPipeline(ctx context.Context, id string) (*run.Pipeline, error) {
	return s.onePipeline(ctx, `id=?`, id)
}

// GetPipelineByName returns a pipeline by its unique name.
func (s *Store) GetPipelineByName(ctx context.Context, name string) (*run.Pipeline, error) {
	return s.onePipeline(ctx, `name=?`, name)
}

func (s *Store) onePipeline(ctx context.Context, cond string, arg string) (*run.Pipeline, error) {
	p, err := scanPipeline(s.db.QueryRowContext(ctx, `SELECT `+pipelineCols+` FROM pipelines WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("pipeline %s: %w", arg, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get pipeline %s: %w", arg, err)
	}
	return p, nil
}

var pipelinesTable = table{name: "pipelines", defaultSort: "created_at", fields: map[string]string{
	"pipeline_id": "id", "id": "id", "name": "name", "display_name": "display_name",
	"description": "description", "namespace": "namespace", "created_at": "created_at",
}}

// ListPipelines lists pipelines.
func (s *Store) ListPipelines(ctx context.Context, opts ListOptions) ([]*run.Pipeline, Page, error) {
	var out []*run.Pipeline
	page, err := s.list(ctx, pipelinesTable, pipelineCols, opts, func(r scanner) error {
		p, err := scanPipeline(r)
		if err == nil {
			out = append(out, p)
		}
		return err
	})
	return out, page, err
}

// DeletePipeline removes a pipeline. Unless cascade, a pipeline that still
// has versions is not removed (ErrConflict).
func (s *Store) DeletePipeline(ctx context.Context, id string, cascade bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete pipeline %s: %w", id, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pipeline_versions WHERE pipeline_id=?`, id).Scan(&n); err != nil {
		return fmt.Errorf("delete pipeline %s: %w", id, err)
	}
	if n > 0 && !cascade {
		return fmt.Errorf("pipeline %s has %d version(s): %w: delete them first, or delete with cascade", id, n, ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM pipeline_versions WHERE pipeline_id=?`, id); err != nil {
		return fmt.Errorf("delete pipeline %s: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM pipelines WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete pipeline %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("pipeline %s: %w", id, ErrNotFound)
	}
	return tx.Commit()
}

const versionCols = `id, pipeline_id, name, display_name, description, spec, created_at`

func scanVersion(row scanner) (*run.PipelineVersion, error) {
	var v run.PipelineVersion
	var created int64
	if err := row.Scan(&v.ID, &v.PipelineID, &v.Name, &v.DisplayName, &v.Description, &v.Spec, &created); err != nil {
		return nil, err
	}
	v.CreatedAt = fromStamp(created)
	return &v, nil
}

// GetPipelineVersion returns a version by id.
func (s *Store) GetPipelineVersion(ctx context.Context, id string) (*run.PipelineVersion, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionCols+` FROM pipeline_versions WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("pipeline version %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get pipeline version %s: %w", id, err)
	}
	return v, nil
}

// LatestPipelineVersion returns a pipeline's newest version.
func (s *Store) LatestPipelineVersion(ctx context.Context, pipelineID string) (*run.PipelineVersion, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, `SELECT `+versionCols+` FROM pipeline_versions WHERE pipeline_id=? ORDER BY created_at DESC, id DESC LIMIT 1`, pipelineID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("pipeline %s has no version: %w", pipelineID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("latest version of %s: %w", pipelineID, err)
	}
	return v, nil
}

// ListPipelineVersions lists the versions of one pipeline.
func (s *Store) ListPipelineVersions(ctx context.Context, pipelineID string, opts ListOptions) ([]*run.PipelineVersion, Page, error) {
	t := table{name: "pipeline_versions", defaultSort: "created_at", scope: "pipeline_id = ?", scopeArgs: []any{pipelineID},
		fields: map[string]string{"pipeline_version_id": "id", "id": "id", "name": "name", "display_name": "display_name",
			"description": "description", "created_at": "created_at"}}
	var out []*run.PipelineVersion
	page, err := s.list(ctx, t, versionCols, opts, func(r scanner) error {
		v, err := scanVersion(r)
		if err == nil {
			out = append(out, v)
		}
		return err
	})
	return out, page, err
}

// DeletePipelineVersion removes a version.
func (s *Store) DeletePipelineVersion(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM pipeline_versions WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete pipeline version %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("pipeline version %s: %w", id, ErrNotFound)
	}
	return nil
}

const experimentCols = `id, display_name, description, namespace, storage_state, created_at, last_run_created_at`

func scanExperiment(row scanner) (*run.Experiment, error) {
	var e run.Experiment
	var created, last int64
	if err := row.Scan(&e.ID, &e.DisplayName, &e.Description, &e.Namespace, &e.StorageState, &created, &last); err != nil {
		return nil, err
	}
	e.CreatedAt, e.LastRunCreatedAt = fromStamp(created), fromStamp(last)
	return &e, nil
}

// CreateExperiment stores an experiment; names are unique per namespace.
func (s *Store) CreateExperiment(ctx context.Context, e *run.Experiment) error {
	if e.StorageState == "" {
		e.StorageState = run.StorageAvailable
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO experiments (`+experimentCols+`) VALUES (?,?,?,?,?,?,?)`,
		e.ID, e.DisplayName, e.Description, e.Namespace, e.StorageState, stamp(e.CreatedAt), stamp(e.LastRunCreatedAt))
	if isUnique(err) {
		return fmt.Errorf("experiment %q: %w: an experiment with this name exists", e.DisplayName, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create experiment %s: %w", e.DisplayName, err)
	}
	return nil
}

// GetExperiment returns an experiment by id.
func (s *Store) GetExperiment(ctx context.Context, id string) (*run.Experiment, error) {
	e, err := scanExperiment(s.db.QueryRowContext(ctx, `SELECT `+experimentCols+` FROM experiments WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("experiment %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get experiment %s: %w", id, err)
	}
	return e, nil
}

var experimentsTable = table{name: "experiments", defaultSort: "created_at", fields: map[string]string{
	"experiment_id": "id", "id": "id", "name": "display_name", "display_name": "display_name",
	"description": "description", "namespace": "namespace", "storage_state": "storage_state", "created_at": "created_at",
}}

// ListExperiments lists experiments.
func (s *Store) ListExperiments(ctx context.Context, opts ListOptions) ([]*run.Experiment, Page, error) {
	var out []*run.Experiment
	page, err := s.list(ctx, experimentsTable, experimentCols, opts, func(r scanner) error {
		e, err := scanExperiment(r)
		if err == nil {
			out = append(out, e)
		}
		return err
	})
	return out, page, err
}

// SetExperimentStorage archives or restores an experiment; archiving also
// archives its runs, as in KFP.
func (s *Store) SetExperimentStorage(ctx context.Context, id, state string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE experiments SET storage_state=? WHERE id=?`, state, id)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("experiment %s: %w", id, ErrNotFound)
	}
	if state == run.StorageArchived {
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET storage_state=? WHERE experiment_id=?`, state, id); err != nil {
			return fmt.Errorf("experiment %s: archive runs: %w", id, err)
		}
	}
	return tx.Commit()
}

// DeleteExperiment removes an experiment that has no runs.
func (s *Store) DeleteExperiment(ctx context.Context, id string) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE experiment_id=?`, id).Scan(&n); err != nil {
		return fmt.Errorf("delete experiment %s: %w", id, err)
	}
	if n > 0 {
		return fmt.Errorf("experiment %s has %d run(s): %w", id, n, ErrConflict)
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM experiments WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete experiment %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("experiment %s: %w", id, ErrNotFound)
	}
	return nil
}
