package engine

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
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

// apply carries out the planner's decisions: it records every change in one
// transaction first, then starts the attempts it created.
func (x *execution) apply(ctx context.Context, acts []action) error {
	now := time.Now().UTC()
	ch := &run.Changes{}
	var events []Event
	var starts []*attemptState
	for _, a := range acts {
		switch a.kind {
		case actStartRun:
			x.st.run.Phase, x.st.run.StartedAt = run.Running, now
			ch.Runs = append(ch.Runs, x.st.run)
			events = append(events, x.event(nil, nil))
			events = append(events, x.createChildren("", "", &x.st.pipe.Root, now, ch)...)
		case actSkip:
			ts := x.st.tasks[a.path]
			ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Skipped, a.reason, now
			ch.TaskRuns = append(ch.TaskRuns, ts.tr)
			events = append(events, x.event(ts.tr, nil))
		case actStart:
			ts := x.st.tasks[a.path]
			as, evs := x.startTask(ts, now, ch)
			events = append(events, evs...)
			if as != nil {
				starts = append(starts, as)
			}
		case actFinishDAG:
			events = append(events, x.finishDAG(x.st.tasks[a.path], a.phase, a.reason, now, ch)...)
		case actFinishRun:
			x.st.run.Phase, x.st.run.FinishedAt = a.phase, now
			if a.phase == run.Failed {
				x.st.run.Error = x.failureSummary(a.reason)
			}
			ch.Runs = append(ch.Runs, x.st.run)
			events = append(events, x.event(nil, nil))
		}
	}
	if err := x.commit(ctx, ch, events); err != nil {
		return err
	}
	if len(starts) == 0 {
		return nil
	}
	ch, events = &run.Changes{}, nil
	for _, as := range starts {
		events = append(events, x.launch(ctx, as, ch)...)
	}
	return x.commit(ctx, ch, events)
}

// createChildren records a pending task run for every task of a DAG.
func (x *execution) createChildren(scope, parentID string, c *spec.Component, now time.Time, ch *run.Changes) []Event {
	var events []Event
	names := make([]string, 0, len(c.DAG.Tasks))
	for n := range c.DAG.Tasks {
		names = append(names, n)
	}
	sort.Strings(names)
	paths := make([]string, 0, len(names))
	for _, n := range names {
		t := c.DAG.Tasks[n]
		comp := x.st.pipe.Components[t.ComponentRef.Name]
		tr := &run.TaskRun{
			ID: newID(), RunID: x.st.run.ID, Path: childPath(scope, n), Name: n, ParentID: parentID,
			Component: t.ComponentRef.Name, Kind: kindOf(x.st.pipe, comp), Phase: run.Pending,
			Inputs: map[string]any{}, Outputs: map[string]any{}, CreatedAt: now,
		}
		ts := &taskState{tr: tr, task: t, comp: comp, scope: scope,
			inArts: map[string][]*run.Artifact{}, outArts: map[string][]*run.Artifact{}}
		x.st.tasks[tr.Path] = ts
		x.st.byID[tr.ID] = ts
		paths = append(paths, tr.Path)
		ch.NewTaskRuns = append(ch.NewTaskRuns, tr)
		events = append(events, x.event(tr, nil))
	}
	x.st.scopes[scope] = paths
	return events
}

// startTask moves a pending task to running (or straight to an end state
// for importers and tasks whose inputs cannot be resolved). For a container
// task it creates the attempt that launch will start.
func (x *execution) startTask(ts *taskState, now time.Time, ch *run.Changes) (*attemptState, []Event) {
	in, err := x.st.resolveInputs(ts)
	if err != nil {
		ts.tr.Phase, ts.tr.Error, ts.tr.FinishedAt = run.Failed, err.Error(), now
		ch.TaskRuns = append(ch.TaskRuns, ts.tr)
		return nil, []Event{x.event(ts.tr, nil)}
	}
	ts.tr.Inputs, ts.tr.StartedAt = in.params, now
	ts.inArts = in.arts
	x.inputEvents(ts, "", now, ch)
	switch ts.tr.Kind {
	case run.KindDAG:
		ts.tr.Phase = run.Running
		ch.TaskRuns = append(ch.TaskRuns, ts.tr)
		events := []Event{x.event(ts.tr, nil)}
		return nil, append(events, x.createChildren(ts.tr.Path, ts.tr.ID, ts.comp, now, ch)...)
	case run.KindImporter:
		return nil, x.runImporter(ts, now, ch)
	}
	a := &run.Attempt{
		ID: newID(), TaskRunID: ts.tr.ID, Number: len(ts.attempts) + 1, Phase: run.Running,
		CreatedAt: now, StartedAt: now,
	}
	a.LogPath = filepath.Join(x.attemptDir(ts, a.Number), "log")
	ts.attempts = append(ts.attempts, a)
	as := &attemptState{a: a, task: ts}
	x.st.attempts[a.ID] = as
	ts.tr.Phase = run.Running
	ch.TaskRuns = append(ch.TaskRuns, ts.tr)
	ch.NewAttempts = append(ch.NewAttempts, a)
	return as, []Event{x.event(ts.tr, a)}
}

// inputEvents records lineage: the task consumed these artifacts.
func (x *execution) inputEvents(ts *taskState, attemptID string, now time.Time, ch *run.Changes) {
	for _, name := range sortedNames(ts.inArts) {
		for i, a := range ts.inArts[name] {
			ch.Events = append(ch.Events, &run.ArtifactEvent{ArtifactID: a.ID, TaskRunID: ts.tr.ID, AttemptID: attemptID,
				Kind: run.EventInput, Name: name, Index: i, CreatedAt: now})
		}
	}
}

func (x *execution) attemptDir(ts *taskState, n int) string {
	return filepath.Join(x.e.cfg.Home, "runs", x.st.run.ID, "tasks", filepath.FromSlash(ts.tr.Path), fmt.Sprint(n))
}

// prepare builds the executor-protocol view of an attempt.
func (x *execution) prepare(as *attemptState) (*launch.Prepared, error) {
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
		WorkDir:    x.attemptDir(ts, as.a.Number),
		Runtime: launch.Runtime{
			JobName: r.DisplayName, JobUUID: r.ID, TaskName: ts.tr.Name, TaskUUID: ts.tr.ID,
			PipelineRoot: r.PipelineRoot, CreateTime: r.CreatedAt.Format(time.RFC3339),
		},
	})
}

// launch starts a recorded attempt and records its handle.
func (x *execution) launch(ctx context.Context, as *attemptState, ch *run.Changes) []Event {
	fail := func(err error) []Event {
		return x.finishAttempt(as, executor.Status{State: executor.StateExited, ExitCode: -1, Message: err.Error()}, ch)
	}
	p, err := x.prepare(as)
	if err != nil {
		return fail(fmt.Errorf("prepare: %w", err))
	}
	as.step = &stepRuntime{prepared: p}
	argv, env := p.Argv, p.Env
	if x.e.envs != nil {
		wrapped, extra, err := x.e.envs.Wrap(ctx, argv)
		if err != nil {
			return fail(err)
		}
		argv, env = wrapped, append(extra, env...)
	}
	x.e.route(as.a.ID, x.wake)
	h, err := x.e.exec.Start(ctx, executor.Spec{
		AttemptID: as.a.ID, Command: argv, Env: env,
		Dir: filepath.Dir(p.OutputFile), LogPath: as.a.LogPath,
	})
	if err != nil {
		x.e.unroute(as.a.ID)
		return fail(err)
	}
	as.a.Handle = string(h)
	ch.Attempts = append(ch.Attempts, as.a)
	x.log.Debug("attempt started", slog.String("task", as.task.tr.Path), slog.Int("attempt", as.a.Number))
	// A very short step may have ended before its handle was stored; make
	// sure its completion is looked at.
	select {
	case x.wake <- as.a.ID:
	default:
	}
	return nil
}

// finishAttempt records the end of an attempt and of its task.
func (x *execution) finishAttempt(as *attemptState, st executor.Status, ch *run.Changes) []Event {
	now := time.Now().UTC()
	a, ts := as.a, as.task
	x.e.unroute(a.ID)
	a.FinishedAt = now
	if st.State == executor.StateExited && st.ExitCode >= 0 {
		code := st.ExitCode
		a.ExitCode = &code
	}
	var err error
	switch {
	case st.State == executor.StateExited && st.ExitCode == 0:
		err = x.collect(as, now, ch)
	case st.State == executor.StateExited && st.ExitCode > 0:
		err = fmt.Errorf("exit code %d%s", st.ExitCode, logHint(a.LogPath))
		if st.Message != "" {
			err = fmt.Errorf("%s%s", st.Message, logHint(a.LogPath))
		}
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
	if err != nil {
		a.Phase, a.Error = run.Failed, err.Error()
		ts.tr.Phase, ts.tr.Error = run.Failed, err.Error()
	} else {
		a.Phase, ts.tr.Phase = run.Succeeded, run.Succeeded
	}
	ts.tr.FinishedAt = now
	ch.Attempts = append(ch.Attempts, a)
	ch.TaskRuns = append(ch.TaskRuns, ts.tr)
	return []Event{x.event(ts.tr, a)}
}

// collect reads a successful attempt's outputs into the task run and
// records its output artifacts.
func (x *execution) collect(as *attemptState, now time.Time, ch *run.Changes) error {
	if as.step == nil {
		p, err := x.prepare(as)
		if err != nil {
			return fmt.Errorf("collect outputs: %w", err)
		}
		as.step = &stepRuntime{prepared: p}
	}
	res, err := as.step.prepared.Collect()
	if err != nil {
		return err
	}
	ts := as.task
	ts.tr.Outputs = res.Params
	for _, name := range sortedNames(res.Artifacts) {
		for i, la := range res.Artifacts[name] {
			art := &run.Artifact{ID: newID(), RunID: x.st.run.ID, URI: la.URI, SchemaTitle: la.SchemaTitle,
				SchemaVersion: la.SchemaVersion, Metadata: la.Metadata, CreatedAt: now}
			art.Size = sizeOf(launch.LocalPath(la.URI))
			ts.outArts[name] = append(ts.outArts[name], art)
			ch.NewArtifacts = append(ch.NewArtifacts, art)
			ch.Events = append(ch.Events, &run.ArtifactEvent{ArtifactID: art.ID, TaskRunID: ts.tr.ID, AttemptID: as.a.ID,
				Kind: run.EventOutput, Name: name, Index: i, CreatedAt: now})
		}
	}
	return nil
}

// runImporter registers an existing artifact as the task's output.
func (x *execution) runImporter(ts *taskState, now time.Time, ch *run.Changes) []Event {
	im := x.st.pipe.DeploymentSpec.Executors[ts.comp.ExecutorLabel].Importer
	var uri string
	if im.ArtifactURI.RuntimeParameter != "" {
		uri = spec.FormatValue(ts.tr.Inputs[im.ArtifactURI.RuntimeParameter])
	} else {
		uri = spec.FormatValue(im.ArtifactURI.Constant)
	}
	md := map[string]any{}
	for k, v := range im.Metadata {
		md[k] = v
	}
	art := &run.Artifact{ID: newID(), RunID: x.st.run.ID, URI: uri, SchemaTitle: im.TypeSchema.SchemaTitle,
		SchemaVersion: im.TypeSchema.SchemaVersion, Metadata: md, Size: sizeOf(launch.LocalPath(uri)), CreatedAt: now}
	ts.outArts["artifact"] = []*run.Artifact{art}
	ch.NewArtifacts = append(ch.NewArtifacts, art)
	ch.Events = append(ch.Events, &run.ArtifactEvent{ArtifactID: art.ID, TaskRunID: ts.tr.ID, Kind: run.EventOutput, Name: "artifact", CreatedAt: now})
	ts.tr.Phase, ts.tr.FinishedAt = run.Succeeded, now
	ch.TaskRuns = append(ch.TaskRuns, ts.tr)
	return []Event{x.event(ts.tr, nil)}
}

// finishDAG ends a DAG task once all its children ended, resolving its
// outputs from their outputs.
func (x *execution) finishDAG(ts *taskState, phase run.Phase, failedChild string, now time.Time, ch *run.Changes) []Event {
	if phase == run.Succeeded {
		if err := x.dagOutputs(ts, now, ch); err != nil {
			phase, ts.tr.Error = run.Failed, err.Error()
		}
	} else {
		ts.tr.Error = "task " + failedChild + " failed"
	}
	ts.tr.Phase, ts.tr.FinishedAt = phase, now
	ch.TaskRuns = append(ch.TaskRuns, ts.tr)
	return []Event{x.event(ts.tr, nil)}
}

func (x *execution) dagOutputs(ts *taskState, now time.Time, ch *run.Changes) error {
	outs := ts.comp.DAG.Outputs
	if outs == nil {
		return nil
	}
	for _, name := range sortedNames(outs.Parameters) {
		op := outs.Parameters[name]
		sels := []*spec.ParameterSelector{}
		if op.ValueFromParameter != nil {
			sels = append(sels, op.ValueFromParameter)
		}
		if op.ValueFromOneof != nil {
			sels = append(sels, op.ValueFromOneof.ParameterSelectors...)
		}
		for _, s := range sels {
			if c := x.st.tasks[childPath(ts.tr.Path, s.ProducerSubtask)]; c != nil && c.tr.Phase.Done() {
				if v, ok := c.tr.Outputs[s.OutputParameterKey]; ok {
					ts.tr.Outputs[name] = v
					break
				}
			}
		}
		if _, ok := ts.tr.Outputs[name]; !ok {
			return fmt.Errorf("output %q: no producing subtask ran", name)
		}
	}
	for _, name := range sortedNames(outs.Artifacts) {
		for _, s := range outs.Artifacts[name].ArtifactSelectors {
			if c := x.st.tasks[childPath(ts.tr.Path, s.ProducerSubtask)]; c != nil && c.tr.Phase.Done() {
				if arts := c.outArts[s.OutputArtifactKey]; len(arts) > 0 {
					ts.outArts[name] = arts
					break
				}
			}
		}
		for i, a := range ts.outArts[name] {
			ch.Events = append(ch.Events, &run.ArtifactEvent{ArtifactID: a.ID, TaskRunID: ts.tr.ID, Kind: run.EventOutput, Name: name, Index: i, CreatedAt: now})
		}
	}
	return nil
}

// failureSummary names the first failed task and its error.
func (x *execution) failureSummary(path string) string {
	ts := x.st.tasks[path]
	if ts == nil {
		return "failed"
	}
	// Descend to the innermost failed task for a useful message.
	for ts.tr.Kind == run.KindDAG {
		var inner *taskState
		for _, p := range x.st.scopes[ts.tr.Path] {
			if c := x.st.tasks[p]; c.tr.Phase == run.Failed {
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
			events = append(events, x.finishAttempt(as, executor.Status{State: executor.StateLost, Message: "interrupted before the process started: " + errNoHandle.Error()}, ch)...)
			continue
		}
		x.e.route(as.a.ID, x.wake)
		st, err := x.e.exec.Poll(ctx, executor.Handle(as.a.Handle))
		if err != nil {
			st = executor.Status{State: executor.StateLost, Message: err.Error()}
		}
		if st.State != executor.StateRunning {
			events = append(events, x.finishAttempt(as, st, ch)...)
		}
	}
	return x.commit(ctx, ch, events)
}
