package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/weir-dev/weir/internal/jsonenc"
	"github.com/weir-dev/weir/internal/run"
)

// Apply commits every change in c atomically.
func (s *Store) Apply(ctx context.Context, c *run.Changes) (err error) {
	if c.Empty() {
		return nil
	}
	c.Compact()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, r := range c.NewRuns {
		if err := s.insertRun(ctx, tx, r); err != nil {
			return err
		}
	}
	for _, r := range c.Runs {
		res, err := s.stmt(ctx, tx, sqlUpdateRun).ExecContext(ctx,
			phaseArgs(r.Phase, string(r.Phase), r.Error, stamp(r.StartedAt), stamp(r.FinishedAt), r.ID)...)
		if err := s.checkUpdate(ctx, tx, res, err, "run", sqlRunPhase, r.ID, r.Phase); err != nil {
			return err
		}
	}
	if err := s.insertTaskRuns(ctx, tx, c.NewTaskRuns); err != nil {
		return err
	}
	for _, t := range c.TaskRuns {
		in, out, err := encodeIO(t)
		if err != nil {
			return err
		}
		res, err := s.stmt(ctx, tx, sqlUpdateTaskRun).ExecContext(ctx,
			phaseArgs(t.Phase, string(t.Phase), t.Error, in, out, t.CacheKey, t.CachedFrom, stamp(t.StartedAt), stamp(t.FinishedAt), t.ID)...)
		if err := s.checkUpdate(ctx, tx, res, err, "task run", sqlTaskRunPhase, t.ID, t.Phase); err != nil {
			return err
		}
	}
	if err := insertChunked(ctx, s, tx, c.NewAttempts, sqlInsertAttempt, sqlInsertAttempts,
		func(args []any, a *run.Attempt) ([]any, error) {
			return append(args, a.ID, a.TaskRunID, a.Number, string(a.Phase), a.Handle, nullInt(a.ExitCode), a.Error, a.LogPath,
				stamp(a.CreatedAt), stamp(a.StartedAt), stamp(a.FinishedAt)), nil
		},
		func(a *run.Attempt) string { return "attempt " + a.ID }); err != nil {
		return err
	}
	for _, a := range c.Attempts {
		res, err := s.stmt(ctx, tx, sqlUpdateAttempt).ExecContext(ctx,
			phaseArgs(a.Phase, string(a.Phase), a.Handle, nullInt(a.ExitCode), a.Error, stamp(a.StartedAt), stamp(a.FinishedAt), a.ID)...)
		if err := s.checkUpdate(ctx, tx, res, err, "attempt", sqlAttemptPhase, a.ID, a.Phase); err != nil {
			return err
		}
	}
	for _, a := range c.NewArtifacts {
		md, err := json.Marshal(orEmpty(a.Metadata))
		if err != nil {
			return fmt.Errorf("encode artifact %s metadata: %w", a.URI, err)
		}
		if _, err := s.stmt(ctx, tx, sqlInsertArtifact).ExecContext(ctx,
			a.ID, a.RunID, a.URI, a.SchemaTitle, a.SchemaVersion, string(md), a.Digest, a.Size, stamp(a.CreatedAt)); err != nil {
			return fmt.Errorf("insert artifact %s: %w", a.URI, err)
		}
	}
	for _, e := range c.Events {
		if _, err := s.stmt(ctx, tx, sqlInsertEvent).ExecContext(ctx,
			e.ArtifactID, e.TaskRunID, e.AttemptID, string(e.Kind), e.Name, e.Index, stamp(e.CreatedAt)); err != nil {
			return fmt.Errorf("insert %s event %s/%s: %w", e.Kind, e.TaskRunID, e.Name, err)
		}
	}
	if j := c.Journal; j != nil {
		res, err := s.stmt(ctx, tx, sqlJournalSeq).ExecContext(ctx, j.Seq, j.RunID)
		if err != nil {
			return fmt.Errorf("record journal position of run %s: %w", j.RunID, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return fmt.Errorf("record journal position of run %s: %w", j.RunID, ErrNotFound)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (s *Store) insertRun(ctx context.Context, tx *sqlTx, r *run.Run) error {
	params, err := json.Marshal(orEmpty(r.Parameters))
	if err != nil {
		return fmt.Errorf("encode run %s parameters: %w", r.ID, err)
	}
	opts, err := json.Marshal(r.Options)
	if err != nil {
		return fmt.Errorf("encode run %s options: %w", r.ID, err)
	}
	if !r.Phase.Valid() {
		return fmt.Errorf("insert run %s: invalid phase %q", r.ID, r.Phase)
	}
	storage := r.StorageState
	if storage == "" {
		storage = run.StorageAvailable
	}
	_, err = s.stmt(ctx, tx, sqlInsertRun).ExecContext(ctx,
		r.ID, r.PipelineName, r.DisplayName, r.Spec, r.SpecFile, string(params), r.PipelineRoot, string(opts), string(r.Phase), r.Error, stamp(r.CreatedAt), stamp(r.StartedAt), stamp(r.FinishedAt),
		r.ExperimentID, r.PipelineID, r.PipelineVersionID, r.Description, storage, r.ServiceAccount, r.RecurringRunID, r.CancelRequested)
	if err != nil {
		return fmt.Errorf("insert run %s: %w", r.ID, err)
	}
	if s.db.dialect == dialectSQLite {
		if err := s.indexRunName(ctx, tx, r.ID, r.DisplayName); err != nil {
			return fmt.Errorf("insert run %s: %w", r.ID, err)
		}
	}
	return nil
}

func (s *Store) insertTaskRuns(ctx context.Context, tx *sqlTx, trs []*run.TaskRun) error {
	return insertChunked(ctx, s, tx, trs, sqlInsertTaskRun, sqlInsertTaskRuns,
		func(args []any, t *run.TaskRun) ([]any, error) {
			in, out, err := encodeIO(t)
			if err != nil {
				return nil, err
			}
			if !t.Phase.Valid() {
				return nil, fmt.Errorf("insert task run %s: invalid phase %q", t.Path, t.Phase)
			}
			return append(args, t.ID, t.RunID, t.Path, t.Name, t.ParentID, t.Component, string(t.Kind), string(t.Phase), t.Error,
				in, out, t.CacheKey, t.CachedFrom, stamp(t.CreatedAt), stamp(t.StartedAt), stamp(t.FinishedAt)), nil
		},
		func(t *run.TaskRun) string { return "task run " + t.Path })
}

// insertChunk is how many rows one multi-row insert writes: a batch of
// the engine carries many new task runs and attempts, and one statement
// per row would cost most of the batch.
const insertChunk = 32

// insertChunked inserts rows, insertChunk at a time through multi (the
// single-row statement one repeated insertChunk times), the rest one by
// one through one. args appends a row's values; name names a row in
// errors (a failing chunk names its first and last rows).
func insertChunked[T any](ctx context.Context, s *Store, tx *sqlTx, rows []*T, one, multi string,
	args func([]any, *T) ([]any, error), name func(*T) string) error {
	var buf []any
	for len(rows) > 0 {
		n, q := 1, one
		if len(rows) >= insertChunk {
			n, q = insertChunk, multi
		}
		buf = buf[:0]
		for _, r := range rows[:n] {
			var err error
			if buf, err = args(buf, r); err != nil {
				return err
			}
		}
		if _, err := s.stmt(ctx, tx, q).ExecContext(ctx, buf...); err != nil {
			if n == 1 {
				return fmt.Errorf("insert %s: %w", name(rows[0]), err)
			}
			return fmt.Errorf("insert %s ... %s: %w", name(rows[0]), name(rows[n-1]), err)
		}
		rows = rows[n:]
	}
	return nil
}

// multiRow repeats the VALUES tuple of a single-row INSERT n times.
func multiRow(insert string, n int) string {
	i := strings.LastIndex(insert, "VALUES ")
	tuple := insert[i+len("VALUES "):]
	return insert[:i+len("VALUES ")] + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",")
}

// phaseSlots is how many source phases a guarded update compares against
// (the most any phase has in the transition table).
const phaseSlots = 7

// phaseArgs appends to an update's arguments the phases its row may be in
// for the change to "to" to be legal, padded to phaseSlots.
func phaseArgs(to run.Phase, args ...any) []any {
	src := run.Sources(to)
	for i := 0; i < phaseSlots; i++ {
		if i < len(src) {
			args = append(args, string(src[i]))
		} else {
			args = append(args, "")
		}
	}
	return args
}

// checkUpdate turns a guarded update that matched no row into the reason:
// the row is missing, or the transition is illegal.
func (s *Store) checkUpdate(ctx context.Context, tx *sqlTx, res sql.Result, err error, kind, query, id string, to run.Phase) error {
	if err != nil {
		return fmt.Errorf("update %s %s: %w", kind, id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	var cur string
	err = s.stmt(ctx, tx, query).QueryRowContext(ctx, id).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("update %s %s: %w", kind, id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read %s %s: %w", kind, id, err)
	}
	from, err := run.ParsePhase(cur)
	if err != nil {
		return fmt.Errorf("read %s %s: %w", kind, id, err)
	}
	if err := run.CheckTransition(kind, id, from, to); err != nil {
		return err
	}
	return fmt.Errorf("update %s %s: the row changed underneath (now %s)", kind, id, from)
}

func encodeIO(t *run.TaskRun) (string, string, error) {
	// Both maps go into one buffer, without reflection: the writer encodes
	// them for every task run of every batch.
	b, err := jsonenc.AppendMap(nil, orEmpty(t.Inputs))
	if err != nil {
		return "", "", fmt.Errorf("encode task run %s inputs: %w", t.Path, err)
	}
	n := len(b)
	if b, err = jsonenc.AppendMap(b, orEmpty(t.Outputs)); err != nil {
		return "", "", fmt.Errorf("encode task run %s outputs: %w", t.Path, err)
	}
	return string(b[:n]), string(b[n:]), nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func nullInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// The statements of the write path, prepared once per store.
const (
	sqlInsertRun = `INSERT INTO runs (id, pipeline_name, display_name, spec, spec_file, parameters, pipeline_root, options, phase, error, created_at, started_at, finished_at,
		experiment_id, pipeline_id, pipeline_version_id, description, storage_state, service_account, recurring_run_id, cancel_requested) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	sqlUpdateRun      = `UPDATE runs SET phase=?, error=?, started_at=?, finished_at=? WHERE id=? AND phase IN (?,?,?,?,?,?,?)`
	sqlInsertTaskRun  = `INSERT INTO task_runs (id, run_id, path, name, parent_id, component, kind, phase, error, inputs, outputs, cache_key, cached_from, created_at, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	sqlUpdateTaskRun  = `UPDATE task_runs SET phase=?, error=?, inputs=?, outputs=?, cache_key=?, cached_from=?, started_at=?, finished_at=? WHERE id=? AND phase IN (?,?,?,?,?,?,?)`
	sqlInsertAttempt  = `INSERT INTO attempts (id, task_run_id, number, phase, handle, exit_code, error, log_path, created_at, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`
	sqlUpdateAttempt  = `UPDATE attempts SET phase=?, handle=?, exit_code=?, error=?, started_at=?, finished_at=? WHERE id=? AND phase IN (?,?,?,?,?,?,?)`
	sqlInsertArtifact = `INSERT INTO artifacts (id, run_id, uri, schema_title, schema_version, metadata, digest, size, created_at) VALUES (?,?,?,?,?,?,?,?,?)`
	sqlInsertEvent    = `INSERT INTO artifact_events (artifact_id, task_run_id, attempt_id, kind, name, idx, created_at) VALUES (?,?,?,?,?,?,?)
		ON CONFLICT (task_run_id, kind, name, idx) DO UPDATE SET artifact_id=excluded.artifact_id, attempt_id=excluded.attempt_id, created_at=excluded.created_at`
	sqlJournalSeq   = `UPDATE runs SET journal_seq=? WHERE id=?`
	sqlRunPhase     = `SELECT phase FROM runs WHERE id=?`
	sqlTaskRunPhase = `SELECT phase FROM task_runs WHERE id=?`
	sqlAttemptPhase = `SELECT phase FROM attempts WHERE id=?`
)

var (
	sqlInsertTaskRuns = multiRow(sqlInsertTaskRun, insertChunk)
	sqlInsertAttempts = multiRow(sqlInsertAttempt, insertChunk)
)

// writeStatements are prepared when the store opens (on SQLite a
// transaction holds the only connection, so nothing can be prepared outside
// it later; on Postgres each pooled connection prepares them again when a
// transaction first uses them there).
var writeStatements = []string{
	sqlInsertRun, sqlUpdateRun, sqlInsertTaskRun, sqlUpdateTaskRun, sqlInsertAttempt, sqlUpdateAttempt,
	sqlInsertTaskRuns, sqlInsertAttempts, sqlInsertArtifact, sqlInsertEvent, sqlJournalSeq, sqlRunPhase, sqlTaskRunPhase, sqlAttemptPhase,
}

// phaseReads are the reads an update's transition check relies on. On
// Postgres (read committed) they take the row lock (SELECT ... FOR UPDATE):
// a concurrent writer of the same row then waits for this transaction and
// checks its own transition against the phase committed here, instead of
// both passing the check on the same old phase. On SQLite they are plain
// reads: its transactions start with the database's write lock.
var phaseReads = map[string]bool{sqlRunPhase: true, sqlTaskRunPhase: true, sqlAttemptPhase: true}

func (s *Store) prepare(ctx context.Context) error {
	s.stmts = map[string]*sql.Stmt{}
	queries := writeStatements
	if s.db.dialect == dialectSQLite {
		queries = append(queries[:len(queries):len(queries)], sqliteWriteStatements...)
	}
	for _, q := range queries {
		text := q
		if phaseReads[q] {
			text = s.db.forUpdate(q)
		}
		st, err := s.db.PrepareContext(ctx, text)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// stmt returns a prepared statement bound to tx.
func (s *Store) stmt(ctx context.Context, tx *sqlTx, query string) *sqlStmt {
	return tx.StmtContext(ctx, s.stmts[query])
}
