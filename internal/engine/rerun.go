package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// RetryStore is what a run retry needs from the store.
type RetryStore interface {
	Snapshot(ctx context.Context, runID string) (*run.Snapshot, error)
	RetryRun(ctx context.Context, runID string, tasks []run.Reopen) error
}

// Retry reopens a failed or canceled run so that driving it again resumes
// from the tasks that did not succeed: tasks that succeeded keep their
// outputs and do not run again; failed and canceled tasks, and tasks skipped
// because of them, run again as new attempts (every old attempt is kept);
// exit handlers run again to report the new outcome. Tasks skipped by a
// false condition stay skipped.
func Retry(ctx context.Context, st RetryStore, runID string) error {
	snap, err := st.Snapshot(ctx, runID)
	if err != nil {
		return err
	}
	if ph := snap.Run.Phase; ph != run.Failed && ph != run.Canceled {
		return fmt.Errorf("run %s is %s: %w: only a failed or canceled run can be retried", snap.Run.ID, ph, run.ErrConflict)
	}
	pipe, _, err := spec.Decode(snap.Run.SpecFile, snap.Run.Spec)
	if err != nil {
		return fmt.Errorf("run %s: stored spec no longer decodes: %w", runID, err)
	}
	s := newState(pipe, snap)
	reopen := map[string]run.Phase{}
	hasChildren := func(ts *taskState) bool {
		sc := s.scopes[ts.tr.Path]
		return sc != nil && len(sc.children) > 0
	}
	for _, ts := range s.tasks {
		ph := ts.tr.Phase
		bad := ph == run.Failed || ph == run.Canceled ||
			(ph == run.Skipped && !strings.HasPrefix(ts.tr.Error, "condition is false") && !strings.HasPrefix(ts.tr.Error, "enclosing "))
		if !bad {
			continue
		}
		if isScope(ts.tr.Kind) && hasChildren(ts) {
			reopen[ts.tr.Path] = run.Running
		} else {
			reopen[ts.tr.Path] = run.Pending
		}
	}
	// Scopes around a reopened task reopen too, and exit handlers (tasks
	// that run whatever their upstream did) that depend on one run again.
	for changed := true; changed; {
		changed = false
		for path := range reopen {
			for p := scopeOf(path); p != ""; p = scopeOf(p) {
				if ts := s.tasks[p]; ts != nil && ts.tr.Phase.Terminal() {
					if _, ok := reopen[p]; !ok {
						reopen[p], changed = run.Running, true
					}
				}
			}
		}
		for _, ts := range s.tasks {
			if _, ok := reopen[ts.tr.Path]; ok || !ts.completesAll() || !ts.tr.Phase.Terminal() {
				continue
			}
			for _, up := range s.upstreamOf(ts.task) {
				if _, ok := reopen[childPath(ts.scope, up)]; ok {
					reopen[ts.tr.Path], changed = run.Pending, true
					break
				}
			}
		}
	}
	var list []run.Reopen
	for path, ph := range reopen {
		list = append(list, run.Reopen{TaskRunID: s.tasks[path].tr.ID, Phase: ph})
	}
	return st.RetryRun(ctx, snap.Run.ID, list)
}
