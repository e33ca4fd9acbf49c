package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/weir-dev/weir/internal/artifact"
	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// collect reads a successful attempt's outputs into the task run and
// records its output artifacts with their content digests.
func (x *execution) collect(_ context.Context, as *attemptState, now time.Time, ch *run.Changes) error {
	if as.step == nil {
		p, err := x.prepare(as, false)
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
	ts.outArts = map[string][]*run.Artifact{}
	for _, name := range sortedNames(res.Artifacts) {
		for i, la := range res.Artifacts[name] {
			art := &run.Artifact{ID: newID(), RunID: x.st.run.ID, URI: la.URI, SchemaTitle: la.SchemaTitle,
				SchemaVersion: la.SchemaVersion, Metadata: la.Metadata, CreatedAt: now}
			if art.Digest, art.Size, err = artifact.Digest(launch.LocalPath(la.URI)); err != nil {
				return fmt.Errorf("output artifact %s: %w", name, err)
			}
			ts.outArts[name] = append(ts.outArts[name], art)
			ch.NewArtifacts = append(ch.NewArtifacts, art)
			ch.Events = append(ch.Events, &run.ArtifactEvent{ArtifactID: art.ID, TaskRunID: ts.tr.ID, AttemptID: as.a.ID,
				Kind: run.EventOutput, Name: name, Index: i, CreatedAt: now})
		}
	}
	return nil
}

// runImporter registers an existing artifact as the task's output. Without
// reimport, an artifact already recorded at the same URI is reused, so its
// lineage stays in one place.
func (x *execution) runImporter(ctx context.Context, ts *taskState, b *batch) error {
	im := x.st.pipe.DeploymentSpec.Executors[ts.comp.ExecutorLabel].Importer
	var uri string
	if im.ArtifactURI.RuntimeParameter != "" {
		uri = spec.FormatValue(ts.tr.Inputs[im.ArtifactURI.RuntimeParameter])
	} else {
		uri = spec.FormatValue(im.ArtifactURI.Constant)
	}
	if uri == "" {
		return fmt.Errorf("importer: empty artifact URI")
	}
	var art *run.Artifact
	if !im.Reimport {
		// The artifact may come from this run, not in the store yet.
		if err := x.flush(ctx); err != nil {
			return err
		}
		found, err := x.e.store.ArtifactByURI(ctx, uri)
		if err != nil {
			return err
		}
		if found != nil && found.SchemaTitle == im.TypeSchema.SchemaTitle {
			art = found
		}
	}
	if art == nil {
		md := map[string]any{}
		for k, v := range im.Metadata {
			if s, ok := v.(string); ok {
				sub, err := substitute(s, ts.tr.Inputs)
				if err != nil {
					return fmt.Errorf("importer metadata %s: %w", k, err)
				}
				v = sub
			}
			md[k] = v
		}
		art = &run.Artifact{ID: newID(), RunID: x.st.run.ID, URI: uri, SchemaTitle: im.TypeSchema.SchemaTitle,
			SchemaVersion: im.TypeSchema.SchemaVersion, Metadata: md, CreatedAt: b.now}
		var err error
		if art.Digest, art.Size, err = artifact.Digest(launch.LocalPath(uri)); err != nil {
			return fmt.Errorf("importer: %w", err)
		}
		b.ch.NewArtifacts = append(b.ch.NewArtifacts, art)
	}
	ts.outArts = map[string][]*run.Artifact{"artifact": {art}}
	b.ch.Events = append(b.ch.Events, &run.ArtifactEvent{ArtifactID: art.ID, TaskRunID: ts.tr.ID, Kind: run.EventOutput, Name: "artifact", CreatedAt: b.now})
	ts.tr.Phase, ts.tr.FinishedAt = run.Succeeded, b.now
	b.task(x, ts.tr)
	return nil
}

// finishScope ends a DAG, loop or iteration once its children ended,
// resolving its outputs from theirs.
func (x *execution) finishScope(ts *taskState, phase run.Phase, culprit string, b *batch) {
	switch phase {
	case run.Succeeded:
		// A fresh map: copies of the record taken at earlier commits share
		// the old one, and are being written to the store elsewhere.
		outs := make(map[string]any, len(ts.tr.Outputs))
		for k, v := range ts.tr.Outputs {
			outs[k] = v
		}
		ts.tr.Outputs = outs
		var err error
		if ts.tr.Kind == run.KindLoop {
			err = x.loopOutputs(ts, b)
		} else {
			err = x.dagOutputs(ts, b)
		}
		if err != nil {
			phase, ts.tr.Error = run.Failed, err.Error()
		}
	case run.Failed:
		ts.tr.Error = "task " + culprit + " failed"
	case run.Canceled:
		ts.tr.Error = "canceled"
	}
	ts.tr.Phase, ts.tr.FinishedAt = phase, b.now
	b.task(x, ts.tr)
}

// dagOutputs resolves a DAG's (or an iteration's) outputs from the
// selectors of its component: the first selected subtask that succeeded
// supplies each (this is how OneOf picks the branch that ran).
func (x *execution) dagOutputs(ts *taskState, b *batch) error {
	outs := ts.comp.DAG.Outputs
	if outs == nil {
		return nil
	}
	for _, name := range sortedNames(outs.Parameters) {
		op := outs.Parameters[name]
		var sels []*spec.ParameterSelector
		if op.ValueFromParameter != nil {
			sels = append(sels, op.ValueFromParameter)
		}
		if op.ValueFromOneof != nil {
			sels = append(sels, op.ValueFromOneof.ParameterSelectors...)
		}
		found := false
		for _, s := range sels {
			if c := x.st.tasks[childPath(ts.tr.Path, s.ProducerSubtask)]; c != nil && c.tr.Phase.Done() {
				if v, ok := c.tr.Outputs[s.OutputParameterKey]; ok {
					ts.tr.Outputs[name], found = v, true
					break
				}
			}
		}
		if !found {
			return fmt.Errorf("output %q: none of its producing tasks ran", name)
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
		if len(ts.outArts[name]) == 0 {
			return fmt.Errorf("output artifact %q: none of its producing tasks ran", name)
		}
		x.outputEvents(ts, name, b)
	}
	return nil
}

// loopOutputs collects each iteration's outputs (dsl.Collected): a list of
// parameter values and a list of artifacts, in iteration order.
func (x *execution) loopOutputs(ts *taskState, b *batch) error {
	outs := ts.comp.DAG.Outputs
	if outs == nil {
		return nil
	}
	iters := x.st.scope(ts.tr.Path).children
	for _, name := range sortedNames(outs.Parameters) {
		vals := []any{}
		for _, it := range iters {
			if it.tr.Phase.Done() {
				if v, ok := it.tr.Outputs[name]; ok {
					vals = append(vals, v)
				}
			}
		}
		ts.tr.Outputs[name] = vals
	}
	for _, name := range sortedNames(outs.Artifacts) {
		ts.outArts[name] = nil
		for _, it := range iters {
			if it.tr.Phase.Done() {
				ts.outArts[name] = append(ts.outArts[name], it.outArts[name]...)
			}
		}
		x.outputEvents(ts, name, b)
	}
	return nil
}

func (x *execution) outputEvents(ts *taskState, name string, b *batch) {
	for i, a := range ts.outArts[name] {
		b.ch.Events = append(b.ch.Events, &run.ArtifactEvent{ArtifactID: a.ID, TaskRunID: ts.tr.ID, Kind: run.EventOutput, Name: name, Index: i, CreatedAt: b.now})
	}
}
