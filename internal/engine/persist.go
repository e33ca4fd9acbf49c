package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/journal"
	"github.com/weir-dev/weir/internal/run"
)

// DefaultFlushInterval is how long a run's changes may wait in its journal
// before they are written to the store, when Config.FlushInterval is 0.
const DefaultFlushInterval = 25 * time.Millisecond

// maxUnflushed bounds the records that wait for the store: past it, the
// next commit hands them to the writer.
const maxUnflushed = 4096

// maxJournal is the size past which the journal is emptied (once the store
// holds everything in it) before the next record.
const maxJournal = 64 << 20

// persister records an execution's changes. With a journal, a commit is
// one append to the run's journal file (durable once written, for a crash
// of this process); the accumulated changes go to the store in one
// transaction at most every interval, written by a goroutine of their own
// so that the run does not wait for them, and synchronously at the end of
// the run and before any read of the store that could depend on them.
// Without a journal, every commit is a store transaction.
type persister struct {
	store    Store
	runID    string
	j        *journal.Writer
	seq      int64 // the last record written to the journal
	interval time.Duration
	// since is when the oldest record not yet handed to the writer was
	// written; zero when there is none.
	since   time.Time
	records int
	rows    pendingRows
	// written counts the journal's bytes since it was last emptied.
	written int64

	// The writer goroutine takes batches from jobs in order; a failure
	// stops everything after it (the run stops being driven).
	jobs    chan flushJob
	mu      sync.Mutex
	err     error
	writerQ sync.WaitGroup
}

// flushJob is a batch for the store and, when done is set, a request to
// be told once it (and everything before it) is written.
type flushJob struct {
	ch   *run.Changes
	done chan error
}

// newPersister sets up how a run's changes are persisted: through its
// journal under Home, after replaying into the store what the store lacks
// (and then reading the run back), or straight to the store.
func (e *Engine) newPersister(ctx context.Context, snap *run.Snapshot) (*persister, *run.Snapshot, error) {
	id := snap.Run.ID
	p := &persister{store: e.store, runID: id}
	if e.cfg.Home == "" || e.cfg.FlushInterval < 0 {
		return p, snap, nil
	}
	path := journalPath(e.cfg.Home, id)
	n, last, err := replay(ctx, e.store, path, snap.Run)
	if err != nil {
		return nil, nil, err
	}
	if n > 0 {
		e.log.Info("journal replayed", slog.String("run_id", id), slog.Int("records", n))
		if snap, err = e.store.Snapshot(ctx, id); err != nil {
			return nil, nil, fmt.Errorf("load run %s: %w", id, err)
		}
	}
	if p.j, err = journal.Create(path); err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", id, err)
	}
	if err := p.j.Reset(); err != nil {
		p.j.Close()
		return nil, nil, fmt.Errorf("run %s: %w", id, err)
	}
	p.seq, p.interval = last, e.cfg.FlushInterval
	if p.interval == 0 {
		p.interval = DefaultFlushInterval
	}
	p.start(ctx)
	return p, snap, nil
}

// journalPath is where a run's journal lives.
func journalPath(home, runID string) string {
	return filepath.Join(home, "runs", runID, "journal")
}

// replay writes into the store the records of the run's journal that it
// does not hold yet, and reports how many it wrote and the last sequence
// number seen.
func replay(ctx context.Context, s Store, path string, r *run.Run) (applied int, last int64, err error) {
	recs, err := journal.Read(path)
	if err != nil {
		return 0, 0, fmt.Errorf("run %s: %w", r.ID, err)
	}
	last = r.JournalSeq
	for _, rec := range recs {
		if rec.Seq <= r.JournalSeq {
			continue
		}
		rec.Changes.Journal = &run.JournalMark{RunID: r.ID, Seq: rec.Seq}
		if err := s.Apply(ctx, rec.Changes); err != nil {
			return applied, last, fmt.Errorf("run %s: replay journal %s, record %d: %w", r.ID, path, rec.Seq, err)
		}
		applied++
		last = rec.Seq
	}
	return applied, last, nil
}

// start starts the store writer.
func (p *persister) start(ctx context.Context) {
	p.jobs = make(chan flushJob, 1)
	p.writerQ.Add(1)
	go func() {
		defer p.writerQ.Done()
		for job := range p.jobs {
			var err error
			if job.ch != nil {
				if err = p.failed(); err == nil {
					if err = p.store.Apply(ctx, job.ch); err != nil {
						p.mu.Lock()
						p.err = err
						p.mu.Unlock()
					}
				}
			} else {
				err = p.failed()
			}
			if job.done != nil {
				job.done <- err
			}
		}
	}()
}

// failed is the error of an earlier batch, if any.
func (p *persister) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// commit persists one round's changes.
func (p *persister) commit(ctx context.Context, ch *run.Changes, final bool) error {
	if p.j == nil {
		return p.store.Apply(ctx, ch)
	}
	if err := p.failed(); err != nil {
		return err
	}
	if ch.Empty() && !final {
		return nil
	}
	if !ch.Empty() {
		if p.written > maxJournal {
			// Everything in the journal reaches the store first.
			if err := p.flush(ctx); err != nil {
				return err
			}
		}
		// A record read back holds distinct copies: repeats of one
		// record must go before it is written, as the store drops them
		// by identity.
		ch.Compact()
		n, err := p.j.Append(p.seq+1, ch)
		if err != nil {
			return err
		}
		p.seq++
		p.written += int64(n)
		p.rows.add(ch)
		p.records++
		if p.since.IsZero() {
			p.since = time.Now()
		}
	}
	switch {
	case final:
		return p.flush(ctx)
	case p.records >= maxUnflushed || time.Since(p.since) >= p.interval:
		p.handoff(false)
	}
	return nil
}

// due returns when the records waiting must be handed to the writer; zero
// when none wait.
func (p *persister) due() time.Time {
	if p.j == nil || p.since.IsZero() {
		return time.Time{}
	}
	return p.since.Add(p.interval)
}

// handoff gives the waiting records to the writer. Unless wait is set, it
// does not block: while the writer is busy with an earlier batch, the
// records keep waiting (and accumulating) for the next call.
func (p *persister) handoff(wait bool) {
	if p.since.IsZero() {
		return
	}
	ch := p.rows.changes()
	ch.Journal = &run.JournalMark{RunID: p.runID, Seq: p.seq}
	job := flushJob{ch: ch}
	if wait {
		p.jobs <- job
	} else {
		select {
		case p.jobs <- job:
		default:
			return
		}
	}
	p.rows = pendingRows{}
	p.since, p.records = time.Time{}, 0
}

// flush writes every record not yet in the store and waits until the
// writer is done; the journal is then emptied.
func (p *persister) flush(ctx context.Context) error {
	if p.j == nil {
		return nil
	}
	p.handoff(true)
	done := make(chan error, 1)
	p.jobs <- flushJob{done: done}
	if err := <-done; err != nil {
		return err
	}
	p.written = 0
	return p.j.Reset()
}

// close stops the writer (after the batches it has) and closes the
// journal.
func (p *persister) close() {
	if p.jobs != nil {
		close(p.jobs)
		p.writerQ.Wait()
	}
	if p.j != nil {
		_ = p.j.Close()
	}
}

// pendingRows accumulates the changes of several commits as the store must
// receive them: a copy of each record in its last committed state, once
// (the engine goes on changing its own records after a commit, and must
// not race with, nor leak later states into, what is written).
type pendingRows struct {
	runs      rowSet[run.Run]
	taskRuns  rowSet[run.TaskRun]
	attempts  rowSet[run.Attempt]
	artifacts []*run.Artifact
	events    []*run.ArtifactEvent
}

func (p *pendingRows) add(ch *run.Changes) {
	p.runs.putAll(ch.NewRuns, true)
	p.runs.putAll(ch.Runs, false)
	p.taskRuns.putAll(ch.NewTaskRuns, true)
	p.taskRuns.putAll(ch.TaskRuns, false)
	p.attempts.putAll(ch.NewAttempts, true)
	p.attempts.putAll(ch.Attempts, false)
	for _, a := range ch.NewArtifacts {
		c := *a
		p.artifacts = append(p.artifacts, &c)
	}
	for _, e := range ch.Events {
		c := *e
		p.events = append(p.events, &c)
	}
}

func (p *pendingRows) changes() *run.Changes {
	return &run.Changes{
		NewRuns: p.runs.inserts, Runs: p.runs.updates,
		NewTaskRuns: p.taskRuns.inserts, TaskRuns: p.taskRuns.updates,
		NewAttempts: p.attempts.inserts, Attempts: p.attempts.updates,
		NewArtifacts: p.artifacts, Events: p.events,
	}
}

// rowSet holds copies of records keyed by the engine's record: inserted
// ones (written with their last state) and updated ones, each once.
type rowSet[T any] struct {
	copies  map[*T]*T
	inserts []*T
	updates []*T
}

func (s *rowSet[T]) putAll(origs []*T, insert bool) {
	for _, o := range origs {
		s.put(o, insert)
	}
}

func (s *rowSet[T]) put(orig *T, insert bool) {
	if c, ok := s.copies[orig]; ok {
		*c = *orig
		return
	}
	if s.copies == nil {
		s.copies = map[*T]*T{}
	}
	c := new(T)
	*c = *orig
	s.copies[orig] = c
	if insert {
		s.inserts = append(s.inserts, c)
	} else {
		s.updates = append(s.updates, c)
	}
}

// snapshot is what the store holds about the run once everything is
// written, built from memory: the records in the engine's state, with
// times at the store's precision (microseconds), lineage events as the
// store keeps them (one per task, kind, name and index: the last), and
// every artifact they name.
func (x *execution) snapshot() *run.Snapshot {
	us := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return time.UnixMicro(t.UnixMicro()).UTC()
	}
	r := *x.st.run
	r.CreatedAt, r.StartedAt, r.FinishedAt = us(r.CreatedAt), us(r.StartedAt), us(r.FinishedAt)
	snap := &run.Snapshot{Run: &r}
	arts := map[string]*run.Artifact{}
	addArt := func(a *run.Artifact) {
		if _, ok := arts[a.ID]; !ok {
			c := *a
			c.CreatedAt = us(c.CreatedAt)
			arts[a.ID] = &c
			snap.Artifacts = append(snap.Artifacts, &c)
		}
	}
	for _, a := range x.artifacts {
		addArt(a)
	}
	for _, ts := range x.st.tasks {
		tr := *ts.tr
		tr.CreatedAt, tr.StartedAt, tr.FinishedAt = us(tr.CreatedAt), us(tr.StartedAt), us(tr.FinishedAt)
		snap.TaskRuns = append(snap.TaskRuns, &tr)
		for _, a := range ts.attempts {
			c := *a
			c.CreatedAt, c.StartedAt, c.FinishedAt = us(c.CreatedAt), us(c.StartedAt), us(c.FinishedAt)
			snap.Attempts = append(snap.Attempts, &c)
		}
		for _, m := range []map[string][]*run.Artifact{ts.inArts, ts.outArts} {
			for _, list := range m {
				for _, a := range list {
					addArt(a)
				}
			}
		}
	}
	type evKey struct {
		task string
		kind run.EventKind
		name string
		idx  int
	}
	last := map[evKey]*run.ArtifactEvent{}
	for _, e := range x.events {
		c := *e
		c.CreatedAt = us(c.CreatedAt)
		k := evKey{e.TaskRunID, e.Kind, e.Name, e.Index}
		if _, ok := last[k]; !ok {
			snap.Events = append(snap.Events, &c)
		}
		last[k] = &c
	}
	for i, e := range snap.Events {
		snap.Events[i] = last[evKey{e.TaskRunID, e.Kind, e.Name, e.Index}]
	}
	sort.Slice(snap.TaskRuns, func(i, j int) bool {
		a, b := snap.TaskRuns[i], snap.TaskRuns[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.Path < b.Path
	})
	sort.SliceStable(snap.Attempts, func(i, j int) bool {
		a, b := snap.Attempts[i], snap.Attempts[j]
		if a.TaskRunID != b.TaskRunID {
			return a.TaskRunID < b.TaskRunID
		}
		return a.Number < b.Number
	})
	sort.SliceStable(snap.Events, func(i, j int) bool {
		a, b := snap.Events[i], snap.Events[j]
		switch {
		case a.TaskRunID != b.TaskRunID:
			return a.TaskRunID < b.TaskRunID
		case a.Kind != b.Kind:
			return a.Kind < b.Kind
		case a.Name != b.Name:
			return a.Name < b.Name
		}
		return a.Index < b.Index
	})
	return snap
}
