package engine

import (
	"fmt"
	"strconv"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// startLoop expands a ParallelFor into one pending iteration per item,
// holding the item under the loop's item input name; the planner starts
// iterations within the loop's parallelism limit.
func (x *execution) startLoop(ts *taskState, b *batch) error {
	type item struct {
		param any
		art   *run.Artifact
	}
	var items []item
	var itemInput string
	switch {
	case ts.task.ParameterIterator != nil:
		it := ts.task.ParameterIterator
		itemInput = it.ItemInput
		var raw any = it.Items.Raw
		if it.Items.InputParameter != "" {
			v, ok := ts.tr.Inputs[it.Items.InputParameter]
			if !ok {
				return fmt.Errorf("loop items: input %q has no value", it.Items.InputParameter)
			}
			raw = v
		}
		list, err := spec.Coerce(spec.List, raw)
		if err != nil {
			return fmt.Errorf("loop items: %w", err)
		}
		for _, v := range list.([]any) {
			items = append(items, item{param: v})
		}
	case ts.task.ArtifactIterator != nil:
		it := ts.task.ArtifactIterator
		itemInput = it.ItemInput
		for _, a := range ts.inArts[it.Items.InputArtifact] {
			items = append(items, item{art: a})
		}
	}
	ts.tr.Phase = run.Running
	b.task(x, ts.tr)
	for i, itm := range items {
		// An iteration stores only its item: the loop's other inputs are
		// looked up on the loop, so a loop of n items stores O(n) values.
		inputs := map[string]any{}
		arts := map[string][]*run.Artifact{}
		if itm.art != nil {
			arts[itemInput] = []*run.Artifact{itm.art}
		} else {
			inputs[itemInput] = itm.param
		}
		name := strconv.Itoa(i)
		tr := &run.TaskRun{
			ID: newID(), RunID: x.st.run.ID, Path: childPath(ts.tr.Path, name), Name: name, ParentID: ts.tr.ID,
			Component: ts.tr.Component, Kind: run.KindIteration, Phase: run.Pending,
			Inputs: inputs, Outputs: map[string]any{}, CreatedAt: b.now,
		}
		its := &taskState{tr: tr, task: ts.task, comp: ts.comp, scope: ts.tr.Path, index: i,
			inArts: arts, outArts: map[string][]*run.Artifact{}}
		x.st.add(its)
		b.ch.NewTaskRuns = append(b.ch.NewTaskRuns, tr)
		if itm.art != nil {
			b.ch.Events = append(b.ch.Events, &run.ArtifactEvent{ArtifactID: itm.art.ID, TaskRunID: tr.ID,
				Kind: run.EventInput, Name: itemInput, CreatedAt: b.now})
		}
	}
	return nil
}
