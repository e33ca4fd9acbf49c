package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// stepRuntime is what the engine keeps in memory about a started attempt.
type stepRuntime struct {
	prepared *launch.Prepared
}

// batch accumulates the changes and events of one round.
type batch struct {
	ch     run.Changes
	events []Event
	starts []*attemptState
	now    time.Time
}

func (b *batch) task(x *execution, tr *run.TaskRun) {
	b.ch.TaskRuns = append(b.ch.TaskRuns, tr)
	b.events = append(b.events, x.event(tr, nil))
}

// apply carries out the planner's decisions: it records every change in one
// transaction first, then starts the attempts it created.
func (x *execution) apply(ctx context.Context, acts []action) error {
	b := x.pending
	if b == nil {
		b = &batch{}
	}
	x.pending = nil
	b.now = time.Now().UTC()
	b.ch.Attempts = append(b.ch.Attempts, x.handles...)
	x.handles = nil
	// Decisions that follow at once from these (an iteration that starts
	// creates a task that can start, a finished scope lets the next one
	// start) join the same commit: one transaction per round, not per
	// decision.
	for pass := 0; ; pass++ {
		x.applyActions(ctx, acts, b)
		if pass == maxSettle {
			break
		}
		if acts, _ = decide(x.st, x.planInput()); len(acts) == 0 {
			break
		}
	}
	if err := x.commit(ctx, &b.ch, b.events); err != nil {
		return err
	}
	// The attempts are recorded: start their processes without holding up
	// the loop. Their handles join the next round's commit; a crash before
	// that leaves processes that Finder locates by attempt id.
	for _, as := range b.starts {
		x.launchAsync(ctx, as)
	}
	return nil
}

// maxSettle bounds the decisions folded into one commit.
const maxSettle = 64

// applyActions carries out decisions in memory and records their changes
// in b.
func (x *execution) applyActions(ctx context.Context, acts []action, b *batch) {
	for _, a := range acts {
		ts := x.st.tasks[a.path]
		switch a.kind {
		case actStartRun:
			x.st.run.Phase, x.st.run.StartedAt = run.Running, b.now
			b.ch.Runs = append(b.ch.Runs, x.st.run)
			b.events = append(b.events, x.event(nil, nil))
			x.createChildren(nil, &x.st.pipe.Root, run.Pending, b)
		case actSkip:
			x.skipTree(ts, a.reason, b)
		case actCancelTask:
			if last := ts.lastAttempt(); last != nil && !last.Phase.Terminal() {
				last.Phase, last.FinishedAt, last.Error = run.Canceled, b.now, a.reason
				b.ch.Attempts = append(b.ch.Attempts, last)
			}
			ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Canceled, a.reason, b.now
			b.task(x, ts.tr)
		case actStart:
			x.startTask(ctx, ts, b)
		case actRetry:
			x.newAttempt(ts, b)
		case actFinishScope:
			x.finishScope(ts, a.phase, a.reason, b)
		case actFinishRun:
			x.st.run.Phase, x.st.run.FinishedAt = a.phase, b.now
			switch a.phase {
			case run.Failed:
				x.st.run.Error = x.failureSummary(a.reason)
			case run.Canceled:
				x.st.run.Error = "canceled"
			}
			b.ch.Runs = append(b.ch.Runs, x.st.run)
			b.events = append(b.events, x.event(nil, nil))
		}
	}
}

// createChildren records a task run for every task of a DAG component
// under parent (nil for the root), in the given phase.
func (x *execution) createChildren(parent *taskState, c *spec.Component, phase run.Phase, b *batch) []*taskState {
	scope, parentID := "", ""
	if parent != nil {
		scope, parentID = parent.tr.Path, parent.tr.ID
	}
	names := make([]string, 0, len(c.DAG.Tasks))
	for n := range c.DAG.Tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*taskState, 0, len(names))
	for _, n := range names {
		t := c.DAG.Tasks[n]
		comp := x.st.pipe.Components[t.ComponentRef.Name]
		tr := &run.TaskRun{
			ID: newID(), RunID: x.st.run.ID, Path: childPath(scope, n), Name: n, ParentID: parentID,
			Component: t.ComponentRef.Name, Kind: kindOf(x.st.pipe, t, comp), Phase: phase,
			Inputs: map[string]any{}, Outputs: map[string]any{}, CreatedAt: b.now,
		}
		if phase.Terminal() {
			tr.FinishedAt = b.now
		}
		ts := &taskState{tr: tr, task: t, comp: comp, scope: scope, index: -1,
			inArts: map[string][]*run.Artifact{}, outArts: map[string][]*run.Artifact{}}
		x.st.add(ts)
		b.ch.NewTaskRuns = append(b.ch.NewTaskRuns, tr)
		b.events = append(b.events, x.event(tr, nil))
		out = append(out, ts)
	}
	return out
}

// skipTree records a task as skipped and, for a DAG, everything inside it.
func (x *execution) skipTree(ts *taskState, reason string, b *batch) {
	ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Skipped, reason, b.now
	b.task(x, ts.tr)
	x.skipChildren(ts, b)
}

func (x *execution) skipChildren(ts *taskState, b *batch) {
	if ts.tr.Kind != run.KindDAG || ts.comp == nil || ts.comp.DAG == nil {
		return
	}
	for _, c := range x.createChildren(ts, ts.comp, run.Skipped, b) {
		c.tr.Error = "enclosing " + ts.tr.Name + " skipped"
		x.skipChildren(c, b)
	}
}

// startTask starts a pending task of any kind.
func (x *execution) startTask(ctx context.Context, ts *taskState, b *batch) {
	if ts.tr.Kind == run.KindIteration {
		ts.tr.Phase, ts.tr.StartedAt = run.Running, b.now
		b.task(x, ts.tr)
		x.createChildren(ts, ts.comp, run.Pending, b)
		return
	}
	fail := func(err error) {
		ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Failed, err.Error(), b.now
		b.task(x, ts.tr)
	}
	in, err := x.st.resolveInputs(ts)
	if err != nil {
		fail(err)
		return
	}
	ts.tr.Inputs, ts.tr.StartedAt = in.params, b.now
	ts.inArts = in.arts
	if tp := ts.task.TriggerPolicy; tp != nil && tp.Condition != "" {
		ok, err := celExprs.condition(tp.Condition, in.params)
		if err != nil {
			fail(err)
			return
		}
		if !ok {
			x.skipTree(ts, "condition is false: "+tp.Condition, b)
			return
		}
	}
	x.inputEvents(ts, "", b)
	switch ts.tr.Kind {
	case run.KindDAG:
		ts.tr.Phase = run.Running
		b.task(x, ts.tr)
		x.createChildren(ts, ts.comp, run.Pending, b)
	case run.KindLoop:
		if err := x.startLoop(ts, b); err != nil {
			fail(err)
		}
	case run.KindImporter:
		if err := x.runImporter(ctx, ts, b); err != nil {
			fail(err)
		}
	default:
		if x.fromCache(ctx, ts, b) {
			return
		}
		ts.tr.Phase = run.Running
		b.ch.TaskRuns = append(b.ch.TaskRuns, ts.tr)
		x.newAttempt(ts, b)
	}
}

// newAttempt records the next attempt of a container task; launch starts it
// once the record is committed.
func (x *execution) newAttempt(ts *taskState, b *batch) {
	a := &run.Attempt{
		ID: newID(), TaskRunID: ts.tr.ID, Number: len(ts.attempts) + 1, Phase: run.Running,
		CreatedAt: b.now, StartedAt: b.now,
	}
	a.LogPath = x.attemptDir(ts, a.Number) + ".log"
	ts.attempts = append(ts.attempts, a)
	as := &attemptState{a: a, task: ts}
	x.st.attempts[a.ID] = as
	x.st.runningAttempts++
	b.ch.NewAttempts = append(b.ch.NewAttempts, a)
	b.events = append(b.events, x.event(ts.tr, a))
	b.starts = append(b.starts, as)
}

// inputEvents records lineage: the task consumed these artifacts.
func (x *execution) inputEvents(ts *taskState, attemptID string, b *batch) {
	for _, name := range sortedNames(ts.inArts) {
		for i, a := range ts.inArts[name] {
			b.ch.Events = append(b.ch.Events, &run.ArtifactEvent{ArtifactID: a.ID, TaskRunID: ts.tr.ID, AttemptID: attemptID,
				Kind: run.EventInput, Name: name, Index: i, CreatedAt: b.now})
		}
	}
}

// attemptDir is an attempt's work directory, holding its executor output,
// output parameters and temporary files: runs/<run>/<task path with
// dots>.<attempt>, one directory level so that starting a step costs at
// most one mkdir (see workDirs). Its log is the file beside it, with
// ".log" added to the name.
func (x *execution) attemptDir(ts *taskState, n int) string {
	return filepath.Join(x.e.cfg.Home, "runs", x.st.run.ID, strings.ReplaceAll(ts.tr.Path, "/", ".")+"."+strconv.Itoa(n))
}

// prepare builds the executor-protocol view of an attempt.
func (x *execution) prepare(as *attemptState, dirMade bool) (*launch.Prepared, error) {
	ts := as.task
	ex := x.st.pipe.DeploymentSpec.Executors[ts.comp.ExecutorLabel]
	inputs := map[string][]launch.Artifact{}
	for name, arts := range ts.inArts {
		for _, a := range arts {
			inputs[name] = append(inputs[name], launch.Artifact{Name: name, URI: a.URI,
				SchemaTitle: a.SchemaTitle, SchemaVersion: a.SchemaVersion, Metadata: a.Metadata})
		}
	}
	r := x.st.run
	return launch.Prepare(launch.Step{
		Component: ts.comp, Container: ex.Container, Params: ts.tr.Inputs, Inputs: inputs,
		OutputRoot: strings.TrimSuffix(r.PipelineRoot, "/") + "/" + r.PipelineName + "/" + r.ID + "/" + ts.tr.Path,
		WorkDir:    x.attemptDir(ts, as.a.Number), WorkDirMade: dirMade,
		Runtime: launch.Runtime{
			JobName: r.DisplayName, JobUUID: r.ID, TaskName: ts.tr.Name, TaskUUID: ts.tr.ID,
			PipelineRoot: r.PipelineRoot, CreateTime: r.CreatedAt.Format(time.RFC3339),
		},
	})
}

// timeout is the attempt's time limit: the task's own
// (kfp.kubernetes.set_timeout), else the run's default.
func (x *execution) timeout(ts *taskState) time.Duration {
	if d := x.st.pipe.ExecutorTimeout(ts.comp.ExecutorLabel); d > 0 {
		return d
	}
	return x.st.run.Options.TaskTimeout
}

// launched is the outcome of starting one attempt.
type launched struct {
	as     *attemptState
	handle executor.Handle
	err    error
}

// launchAsync starts an attempt's process on another goroutine (at most
// maxLaunches at once: preparing a step creates directories, and the first
// step of a Python environment builds it) and hands the result back to the
// loop through x.launches.
func (x *execution) launchAsync(ctx context.Context, as *attemptState) {
	x.inflight++
	go func() {
		x.launchSlots <- struct{}{}
		r := x.start(ctx, as)
		<-x.launchSlots
		select {
		case x.launches <- r:
		case <-x.done:
		}
	}()
}

// maxLaunches bounds the processes being started at once by one run.
const maxLaunches = 8

// recordLaunch takes a started attempt's handle, or its failure to start,
// into the next commit.
func (x *execution) recordLaunch(ctx context.Context, r launched) {
	x.inflight--
	as := r.as
	if r.err != nil {
		if x.pending == nil {
			x.pending = &batch{}
		}
		b := x.pending
		b.events = append(b.events, x.finishAttempt(ctx, as, executor.Status{State: executor.StateExited, ExitCode: -1, Message: r.err.Error()}, &b.ch)...)
		return
	}
	// The handle is stored with the next commit, whatever prompts it: it
	// does not need a transaction of its own (until then, a restart finds
	// the process by its attempt id).
	as.a.Handle = string(r.handle)
	x.handles = append(x.handles, as.a)
	if x.canceling && !x.st.exitHandler(as.task) {
		if err := x.e.exec.Cancel(ctx, r.handle); err != nil {
			x.log.Warn("cancel attempt", slog.String("attempt", as.a.ID), slog.Any("err", err))
		}
	}
	// A very short step may have ended before its handle was known; make
	// sure its completion is looked at.
	select {
	case x.wake <- as.a.ID:
	default:
	}
}

// start prepares and starts one attempt. It only touches the attempt's own
// state, so starts can run concurrently.
func (x *execution) start(ctx context.Context, as *attemptState) launched {
	out := launched{as: as}
	p, err := x.prepare(as, x.workDirs.take(x.attemptDir(as.task, as.a.Number)))
	if err != nil {
		out.err = fmt.Errorf("prepare: %w", err)
		return out
	}
	as.step = &stepRuntime{prepared: p}
	if as.a.Number > 1 {
		// What an earlier attempt left at the output paths (perhaps half
		// written) must not pass for this attempt's output.
		for _, o := range p.Outputs {
			if err := os.RemoveAll(launch.LocalPath(o.URI)); err != nil {
				out.err = fmt.Errorf("clear output %s of an earlier attempt: %w", o.Name, err)
				return out
			}
		}
	}
	// Temporary files of the step stay inside its work directory.
	tmp := filepath.Dir(p.OutputFile)
	argv, env := p.Argv, append([]string{"TMPDIR=" + tmp}, p.Env...)
	if x.e.envs != nil {
		wrapped, extra, err := x.e.envs.Wrap(ctx, argv)
		if err != nil {
			out.err = err
			return out
		}
		argv = wrapped
		env = append(append(extra, "TMPDIR="+tmp), p.Env...)
	}
	x.e.route(as.a.ID, x.wake)
	out.handle, out.err = x.e.exec.Start(ctx, executor.Spec{
		AttemptID: as.a.ID, Command: argv, Env: env, Timeout: x.timeout(as.task),
		Dir: filepath.Dir(p.OutputFile), LogPath: as.a.LogPath,
	})
	if out.err != nil {
		x.e.unroute(as.a.ID)
	} else {
		x.log.Debug("attempt started", slog.String("task", as.task.tr.Path), slog.Int("attempt", as.a.Number))
	}
	return out
}

// finishAttempt records the end of an attempt and what it means for its
// task: success, a retry to come, or failure.
func (x *execution) finishAttempt(ctx context.Context, as *attemptState, st executor.Status, ch *run.Changes) []Event {
	if st.State == executor.StateLost || as.reclaim != "" {
		// The process ended while nobody could see how (it was adopted
		// after a restart, or vanished), or was stopped as an orphan:
		// retry rather than guess.
		why := as.reclaim
		if why == "" {
			why = st.Message
		}
		return []Event{x.interrupted(as, why, ch)}
	}
	now := time.Now().UTC()
	a, ts := as.a, as.task
	if st.State == executor.StateExited && as.step != nil {
		// Started here and gone with its whole process group: once its
		// outputs are collected below, an empty work directory can serve
		// the next attempt.
		defer x.workDirs.give(x.attemptDir(ts, a.Number))
	}
	x.e.unroute(a.ID)
	x.e.release(a.Handle)
	if !a.Phase.Terminal() {
		x.st.runningAttempts--
	}
	a.FinishedAt = now
	if st.State == executor.StateExited && st.ExitCode >= 0 {
		code := st.ExitCode
		a.ExitCode = &code
	}
	var err error
	switch {
	case st.State == executor.StateExited && st.ExitCode == 0:
		err = x.collect(ctx, as, now, ch)
	case st.State == executor.StateExited && st.ExitCode > 0:
		msg := st.Message
		if msg == "" {
			msg = fmt.Sprintf("exit code %d", st.ExitCode)
		}
		err = fmt.Errorf("%s%s", msg, logHint(a.LogPath))
	case st.State == executor.StateCanceled:
		a.Phase, a.Error = run.Canceled, "canceled"
		ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Canceled, "canceled", now
		ch.Attempts = append(ch.Attempts, a)
		ch.TaskRuns = append(ch.TaskRuns, ts.tr)
		return []Event{x.event(ts.tr, a)}
	default:
		msg := st.Message
		if msg == "" {
			msg = string(st.State)
		}
		err = fmt.Errorf("%s", msg)
	}
	ch.Attempts = append(ch.Attempts, a)
	if err == nil {
		a.Phase, ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Succeeded, run.Succeeded, "", now
		ch.TaskRuns = append(ch.TaskRuns, ts.tr)
		return []Event{x.event(ts.tr, a)}
	}
	a.Phase, a.Error = run.Failed, err.Error()
	if retryAllowed(ts.task.RetryPolicy, ts.failures()) && !x.canceling {
		ts.tr.Error = fmt.Sprintf("attempt %d failed: %s (retrying)", a.Number, err)
	} else {
		ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Failed, err.Error(), now
		if len(ts.attempts) > 1 {
			ts.tr.Error = fmt.Sprintf("%s (after %d attempts)", err, len(ts.attempts))
		}
	}
	ch.TaskRuns = append(ch.TaskRuns, ts.tr)
	return []Event{x.event(ts.tr, a)}
}

// failureSummary names the first failed task and its error.
func (x *execution) failureSummary(path string) string {
	ts := x.st.tasks[path]
	if ts == nil {
		return "failed"
	}
	// Descend to the innermost failed task for a useful message.
	for isScope(ts.tr.Kind) {
		var inner *taskState
		for _, c := range x.st.scope(ts.tr.Path).children {
			if c.tr.Phase == run.Failed {
				inner = c
				break
			}
		}
		if inner == nil {
			break
		}
		ts = inner
	}
	return fmt.Sprintf("task %s failed: %s", ts.tr.Path, ts.tr.Error)
}

// recover re-attaches to attempts left running by a previous process: a
// still-running process is adopted; one that vanished is recorded as ended.
func (x *execution) recover(ctx context.Context) error {
	ch := &run.Changes{}
	var events []Event
	for _, as := range x.st.attempts {
		if as.a.Phase.Terminal() {
			continue
		}
		if as.a.Handle == "" {
			// Weir stopped between starting the process and storing its
			// handle: find the process by its attempt id and stop it
			// before the attempt is retried, so that the two never race.
			if f, ok := x.e.exec.(executor.Finder); ok {
				h, found, err := f.Find(ctx, as.a.ID)
				if err == nil && found {
					as.a.Handle, as.reclaim = string(h), "process found without a stored handle after a restart; stopped"
					ch.Attempts = append(ch.Attempts, as.a)
					x.e.route(as.a.ID, x.wake)
					if err := x.e.exec.Cancel(ctx, h); err != nil {
						x.log.Warn("stop orphaned attempt", slog.String("attempt", as.a.ID), slog.Any("err", err))
					}
					continue
				}
			}
			events = append(events, x.interrupted(as, errNoHandle.Error(), ch))
			continue
		}
		x.e.route(as.a.ID, x.wake)
		st, err := x.e.exec.Poll(ctx, executor.Handle(as.a.Handle))
		switch {
		case err != nil:
			events = append(events, x.interrupted(as, err.Error(), ch))
		case st.State != executor.StateRunning:
			events = append(events, x.finishAttempt(ctx, as, st, ch)...)
		}
	}
	return x.commit(ctx, ch, events)
}

// interruptedPrefix marks the error of an attempt whose process was lost
// while weir was not running: it says nothing about the step, so it does not
// count against the task's retries.
const interruptedPrefix = "interrupted: "

// interrupted records an attempt lost to a crash and leaves its task
// running, so that the planner starts a new attempt at once.
func (x *execution) interrupted(as *attemptState, why string, ch *run.Changes) Event {
	x.e.unroute(as.a.ID)
	x.e.release(as.a.Handle)
	if !as.a.Phase.Terminal() {
		x.st.runningAttempts--
	}
	as.a.Phase, as.a.FinishedAt, as.a.Error = run.Failed, time.Now().UTC(), interruptedPrefix+why
	ch.Attempts = append(ch.Attempts, as.a)
	return x.event(as.task.tr, as.a)
}

// failures counts a task's attempts that failed on their own (not lost to a
// crash).
func (ts *taskState) failures() int {
	n := 0
	for _, a := range ts.attempts {
		if a.Phase == run.Failed && !strings.HasPrefix(a.Error, interruptedPrefix) {
			n++
		}
	}
	return n
}
