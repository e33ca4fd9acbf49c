package engine

import (
	"fmt"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// actionKind names what the planner wants done.
type actionKind string

const (
	actStartRun  actionKind = "start-run"  // pending run -> running, create the root's task runs
	actStart     actionKind = "start"      // start a pending task (container, importer or DAG)
	actSkip      actionKind = "skip"       // a pending task will never run
	actFinishDAG actionKind = "finish-dag" // every child of a running DAG task is terminal
	actFinishRun actionKind = "finish-run" // every root task is terminal
)

// action is one decision of the planner.
type action struct {
	kind   actionKind
	path   string
	phase  run.Phase // for finish actions
	reason string
}

// decide looks at a run's state and returns what should happen next. It is
// pure: it reads the state and changes nothing. slots is how many more
// container tasks may start now.
func decide(s *state, slots int) []action {
	switch s.run.Phase {
	case run.Pending:
		return []action{{kind: actStartRun}}
	case run.Running:
	default:
		return nil
	}
	var out []action
	var visit func(scope string) (done bool, failed string)
	visit = func(scope string) (bool, string) {
		done, failed := true, ""
		for _, path := range s.scopes[scope] {
			ts := s.tasks[path]
			ph := ts.tr.Phase
			switch {
			case ph == run.Pending:
				done = false
				blocked, why, ready := upstreamState(s, ts)
				switch {
				case blocked:
					out = append(out, action{kind: actSkip, path: path, reason: why})
				case ready:
					if kindOf(s.pipe, ts.comp) == run.KindContainer {
						if slots <= 0 {
							continue
						}
						slots--
					}
					out = append(out, action{kind: actStart, path: path})
				}
			case ph == run.Running && ts.tr.Kind == run.KindDAG:
				done = false
				childDone, childFailed := visit(path)
				if childDone {
					a := action{kind: actFinishDAG, path: path, phase: run.Succeeded}
					if childFailed != "" {
						a.phase, a.reason = run.Failed, childFailed
					}
					out = append(out, a)
				}
			case !ph.Terminal():
				done = false
			case ph == run.Failed || ph == run.Canceled:
				if failed == "" {
					failed = path
				}
			}
		}
		return done, failed
	}
	done, failed := visit("")
	if done {
		a := action{kind: actFinishRun, phase: run.Succeeded}
		if failed != "" {
			a.phase, a.reason = run.Failed, failed
		}
		out = append(out, a)
	}
	return out
}

// upstreamState reports whether a pending task can never run (blocked, with
// the reason) or can start now (ready).
func upstreamState(s *state, ts *taskState) (blocked bool, why string, ready bool) {
	if ts.task == nil {
		return true, "task is not in the pipeline spec", false
	}
	ready = true
	for _, up := range spec.Upstream(ts.task) {
		u := s.tasks[childPath(ts.scope, up)]
		if u == nil {
			return true, fmt.Sprintf("upstream task %s does not exist", up), false
		}
		switch ph := u.tr.Phase; {
		case ph.Done():
		case ph.Terminal():
			return true, fmt.Sprintf("upstream task %s %s", up, ph), false
		default:
			ready = false
		}
	}
	return false, "", ready
}
