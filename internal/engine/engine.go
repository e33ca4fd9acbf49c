// Package engine runs pipelines. A pure planner (decide) looks at a run's
// state and says what should happen next; a thin applier persists each
// decision through the store and only then acts on it through an executor.
// Because every state change is committed before it is acted on, a run can
// always be resumed from the store.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// Store is the persistence the engine needs.
type Store interface {
	Apply(ctx context.Context, c *run.Changes) error
	Snapshot(ctx context.Context, runID string) (*run.Snapshot, error)
	// FindCached returns the latest succeeded task run with a cache key,
	// or nil.
	FindCached(ctx context.Context, key string) (*run.CacheHit, error)
	// ArtifactByURI returns the latest artifact recorded at a URI, or nil.
	ArtifactByURI(ctx context.Context, uri string) (*run.Artifact, error)
}

// Environments prepares the interpreter environment a step asks for (for
// lightweight Python components: a cached virtualenv instead of a pip
// install on every step).
type Environments interface {
	// Wrap returns the command line to run instead of argv and extra
	// environment variables. It returns argv unchanged when the step needs
	// no environment.
	Wrap(ctx context.Context, argv []string) ([]string, []string, error)
}

// Event tells an observer that something changed. Task and Attempt are nil
// for run-level events. The values are copies; observers may keep them.
type Event struct {
	Run     run.Run
	Task    *run.TaskRun
	Attempt *run.Attempt
}

// Config tunes an Engine.
type Config struct {
	// Home is the directory for per-attempt logs and work directories.
	Home string
	// Parallelism caps concurrently running container tasks per run; 0
	// means the number of CPUs.
	Parallelism int
	Logger      *slog.Logger
	// Observe, if set, is called after every persisted change. It runs on
	// the engine's goroutine and must return quickly.
	Observe func(Event)
	// FlushInterval is how long a run's changes may wait in the run's
	// journal (under Home) before they are written to the store; 0 means
	// DefaultFlushInterval. A negative value, or an empty Home, writes
	// every change to the store at once, without a journal.
	FlushInterval time.Duration
}

// Engine executes runs.
type Engine struct {
	store Store
	exec  executor.Executor
	envs  Environments
	cfg   Config
	log   *slog.Logger

	mu     sync.Mutex
	routes map[string]chan string // attempt id -> the channel of the run that owns it
	// decoded holds pipelines decoded when their runs were submitted, by
	// run id, until the runs are driven (see UsePipeline).
	decoded map[string]*spec.Pipeline

	runsDir sync.Once // see prepareRunsDir
}

// prepareRunsDir creates Home/runs, where each run keeps its journal and
// its attempts' work directories and logs, and marks it as the parent of
// separate hierarchies (see markHierarchyTop), once per Engine. Failures
// are left to the first file created there, which reports them with its
// path; a filesystem without the mark needs none.
func (e *Engine) prepareRunsDir() {
	e.runsDir.Do(func() {
		dir := filepath.Join(e.cfg.Home, "runs")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return
		}
		if err := markHierarchyTop(dir); err != nil && !errors.Is(err, errors.ErrUnsupported) {
			e.log.Debug("runs directory placement hint", slog.String("dir", dir), slog.Any("err", err))
		}
	})
}

// maxDecoded bounds the pipelines kept for runs not driven yet; past it a
// run's spec is decoded again when it is driven.
const maxDecoded = 64

// UsePipeline hands the engine the pipeline Prepare decoded from a run's
// spec, for the run's next drive, which then need not decode the stored
// spec again (for a pipeline with a long list of loop items that is a few
// milliseconds). The caller must not use p afterwards.
func (e *Engine) UsePipeline(runID string, p *spec.Pipeline) {
	if p == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.decoded == nil {
		e.decoded = map[string]*spec.Pipeline{}
	}
	if len(e.decoded) < maxDecoded {
		e.decoded[runID] = p
	}
}

// pipeline returns the decoded spec of a stored run: the one handed over by
// UsePipeline, once, or else the stored spec decoded.
func (e *Engine) pipeline(r *run.Run) (*spec.Pipeline, error) {
	e.mu.Lock()
	p := e.decoded[r.ID]
	delete(e.decoded, r.ID)
	e.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, _, err := spec.Decode(r.SpecFile, r.Spec)
	return p, err
}

// New returns an engine. envs may be nil, in which case every command runs
// as it is.
func New(store Store, exec executor.Executor, envs Environments, cfg Config) *Engine {
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = runtime.NumCPU()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{store: store, exec: exec, envs: envs, cfg: cfg, log: cfg.Logger, routes: map[string]chan string{}}
	go e.dispatch()
	return e
}

// dispatch routes executor notifications to the run that owns the attempt.
func (e *Engine) dispatch() {
	for id := range e.exec.Changed() {
		e.mu.Lock()
		ch := e.routes[id]
		e.mu.Unlock()
		if ch != nil {
			ch <- id
		}
	}
}

func (e *Engine) route(id string, ch chan string) {
	e.mu.Lock()
	e.routes[id] = ch
	e.mu.Unlock()
}

func (e *Engine) unroute(id string) {
	e.mu.Lock()
	delete(e.routes, id)
	e.mu.Unlock()
}

// release tells the executor that an ended attempt will not be polled
// again, when it keeps attempts in memory.
func (e *Engine) release(h string) {
	if r, ok := e.exec.(executor.Releaser); ok && h != "" {
		r.Release(executor.Handle(h))
	}
}

// Execute drives a stored run until it ends and returns its final record.
// A run that was interrupted (its process died) resumes where it stopped.
// Canceling ctx cancels the run: running attempts are stopped, tasks that
// have not started are recorded as canceled, exit handlers still run, and
// the run ends canceled.
func (e *Engine) Execute(ctx context.Context, runID string) (*run.Run, error) {
	return e.Drive(context.WithoutCancel(ctx), runID, ctx.Done())
}

// ErrDetached is returned by Drive when it stopped driving a run that goes
// on: its processes keep running and a later Drive adopts them.
var ErrDetached = errors.New("stopped driving the run; it resumes when driven again")

// Drive drives a stored run until it ends. Closing cancel cancels the run
// (as does a cancel request stored with the run); canceling ctx only stops
// driving it (ErrDetached), as a server does when it shuts down.
func (e *Engine) Drive(ctx context.Context, runID string, cancel <-chan struct{}) (*run.Run, error) {
	_, r, err := e.drive(ctx, runID, cancel, false)
	return r, err
}

// ExecuteSnapshot is Execute, returning everything recorded about the run
// once it ended, as Store.Snapshot would read it back (taken from the
// engine's memory instead, which saves reading a large run back).
func (e *Engine) ExecuteSnapshot(ctx context.Context, runID string) (*run.Snapshot, error) {
	x, _, err := e.drive(context.WithoutCancel(ctx), runID, ctx.Done(), true)
	if err != nil {
		return nil, err
	}
	if x.final != nil {
		return x.final, nil
	}
	return x.snapshot(), nil
}

func (e *Engine) drive(ctx context.Context, runID string, cancel <-chan struct{}, wantSnapshot bool) (*execution, *run.Run, error) {
	detach := ctx.Done()
	work := context.WithoutCancel(ctx)
	snap, err := e.store.Snapshot(work, runID)
	if err != nil {
		return nil, nil, fmt.Errorf("load run %s: %w", runID, err)
	}
	pipe, err := e.pipeline(snap.Run)
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: stored spec no longer decodes: %w", runID, err)
	}
	if e.cfg.Home != "" {
		e.prepareRunsDir()
	}
	p, snap, err := e.newPersister(work, snap)
	if err != nil {
		return nil, nil, err
	}
	defer p.close()
	x := &execution{
		e: e, st: newState(pipe, snap), persist: p,
		artifacts: snap.Artifacts, events: snap.Events,
		wake:        make(chan string, 1024),
		launches:    make(chan launched),
		launchSlots: make(chan struct{}, maxLaunches),
		done:        make(chan struct{}),
		parallelism: e.cfg.Parallelism,
		log:         e.log.With(slog.String("run_id", snap.Run.ID)),
		wantFinal:   wantSnapshot,
	}
	defer close(x.done)
	if p := snap.Run.Options.Parallelism; p > 0 {
		x.parallelism = p
	}
	defer x.unrouteAll()
	if err := x.recover(work); err != nil {
		return nil, nil, err
	}
	if snap.Run.CancelRequested && !snap.Run.Phase.Terminal() {
		x.startCancel(work)
	}
	r, err := x.loop(work, cancel, detach)
	return x, r, err
}

// execution is one run being driven.
type execution struct {
	e       *Engine
	st      *state
	persist *persister
	// artifacts and events are every artifact and lineage event of the
	// run recorded so far (the state indexes them per task).
	artifacts   []*run.Artifact
	events      []*run.ArtifactEvent
	wake        chan string
	parallelism int
	canceling   bool
	log         *slog.Logger
	// pending holds finished attempts' results until the next commit;
	// handles holds started attempts whose handle the next commit stores.
	pending *batch
	handles []*run.Attempt
	// launches delivers the outcome of starting a process; inflight counts
	// starts not delivered yet; launchSlots bounds concurrent starts; done
	// is closed when the run stops being driven.
	launches    chan launched
	inflight    int
	launchSlots chan struct{}
	done        chan struct{}
	// workDirs lends ended attempts' empty work directories to new ones.
	workDirs workDirs
	// wantFinal asks for final, the snapshot of the run as it ended,
	// taken while its last changes are written to the store.
	wantFinal bool
	final     *run.Snapshot
}

func (x *execution) unrouteAll() {
	for id := range x.st.attempts {
		x.e.unroute(id)
	}
}

func (x *execution) loop(ctx context.Context, cancel, detach <-chan struct{}) (*run.Run, error) {
	for {
		acts, wakeAt := decide(x.st, x.planInput())
		if len(acts) > 0 || x.pending != nil {
			if err := x.apply(ctx, acts); err != nil {
				return nil, err
			}
			continue
		}
		if x.st.run.Phase.Terminal() {
			r := *x.st.run
			return &r, nil
		}
		if x.st.runningAttempts == 0 && wakeAt.IsZero() {
			return nil, fmt.Errorf("run %s stalled: no task can start and none is running", x.st.run.ID)
		}
		// Changes still waiting in the journal reach the store when they
		// are due, even if nothing else happens by then.
		if due := x.persist.due(); !due.IsZero() && (wakeAt.IsZero() || due.Before(wakeAt)) {
			if !due.After(time.Now()) {
				x.persist.handoff(true)
				continue
			}
			wakeAt = due
		}
		var timer <-chan time.Time
		var t *time.Timer
		if !wakeAt.IsZero() {
			t = time.NewTimer(time.Until(wakeAt))
			timer = t.C
		}
		select {
		case id := <-x.wake:
			if err := x.completions(ctx, id); err != nil {
				return nil, err
			}
		case r := <-x.launches:
			x.recordLaunch(ctx, r)
		case <-cancel:
			cancel = nil
			x.startCancel(ctx)
		case <-detach:
			// Store what is known before letting go.
			if len(x.handles) > 0 {
				_ = x.commit(ctx, &run.Changes{Attempts: x.handles}, nil)
			}
			_ = x.flush(ctx)
			return nil, ErrDetached
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// planInput is what the planner needs besides the state, now.
func (x *execution) planInput() planInput {
	return planInput{
		slots: x.parallelism - x.st.runningAttempts, now: time.Now(), canceling: x.canceling,
		window: 2 * x.parallelism,
	}
}

// completions handles a finished attempt and any others already signalled.
// Their results join the next round's batch, which is committed before
// anything that depends on them starts.
func (x *execution) completions(ctx context.Context, first string) error {
	ids := []string{first}
	for more := true; more; {
		select {
		case id := <-x.wake:
			ids = append(ids, id)
		default:
			more = false
		}
	}
	for _, id := range ids {
		as := x.st.attempts[id]
		if as == nil || as.a.Phase.Terminal() || as.a.Handle == "" {
			continue // unknown, ended, or still being started
		}
		status, err := x.e.exec.Poll(ctx, executor.Handle(as.a.Handle))
		if err != nil {
			return fmt.Errorf("poll attempt %s: %w", id, err)
		}
		if status.State == executor.StateRunning {
			continue
		}
		if x.pending == nil {
			x.pending = &batch{}
		}
		x.pending.events = append(x.pending.events, x.finishAttempt(ctx, as, status, &x.pending.ch)...)
	}
	return nil
}

// commit persists a round's changes, then tells observers. The round that
// ends the run also writes everything still in the journal to the store.
func (x *execution) commit(ctx context.Context, ch *run.Changes, events []Event) error {
	final := x.st.run.Phase.Terminal()
	x.artifacts = append(x.artifacts, ch.NewArtifacts...)
	x.events = append(x.events, ch.Events...)
	var snapped chan struct{}
	if final && x.wantFinal {
		// The round that ends the run waits for the store writer to take
		// everything in the journal; meanwhile the snapshot is taken from
		// memory, which nothing changes until that wait is over.
		snapped = make(chan struct{})
		go func() {
			defer close(snapped)
			x.final = x.snapshot()
		}()
	}
	err := x.persist.commit(ctx, ch, final)
	if snapped != nil {
		<-snapped
	}
	if err != nil {
		x.final = nil
		return fmt.Errorf("run %s: persist: %w", x.st.run.ID, err)
	}
	if x.e.cfg.Observe != nil {
		for _, ev := range events {
			x.e.cfg.Observe(ev)
		}
	}
	return nil
}

// flush writes the changes waiting in the journal to the store: before
// the engine reads the store for something they may hold, and when due.
func (x *execution) flush(ctx context.Context) error {
	if err := x.persist.flush(ctx); err != nil {
		return fmt.Errorf("run %s: persist: %w", x.st.run.ID, err)
	}
	return nil
}

func (x *execution) event(tr *run.TaskRun, a *run.Attempt) Event {
	if x.e.cfg.Observe == nil {
		// Nobody looks: spare the copies.
		return Event{}
	}
	ev := Event{Run: *x.st.run}
	if tr != nil {
		c := *tr
		ev.Task = &c
	}
	if a != nil {
		c := *a
		ev.Attempt = &c
	}
	return ev
}

// startCancel begins canceling the run: every running attempt is asked to
// stop; the planner then cancels what has not started and still runs exit
// handlers.
func (x *execution) startCancel(ctx context.Context) {
	x.canceling = true
	for _, as := range x.st.attempts {
		// Exit handlers are what a cancel must still let run.
		if as.a.Phase == run.Running && as.a.Handle != "" && !x.st.exitHandler(as.task) {
			if err := x.e.exec.Cancel(ctx, executor.Handle(as.a.Handle)); err != nil {
				x.log.Warn("cancel attempt", slog.String("attempt", as.a.ID), slog.Any("err", err))
			}
		}
	}
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

var errNoHandle = errors.New("attempt was never started")
