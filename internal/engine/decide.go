package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

// actionKind names what the planner wants done.
type actionKind string

const (
	actStartRun    actionKind = "start-run"    // pending run -> running, create the root's task runs
	actStart       actionKind = "start"        // start a pending task of any kind
	actSkip        actionKind = "skip"         // a pending task will never run
	actCancelTask  actionKind = "cancel-task"  // the run is being canceled: this task will not run
	actRetry       actionKind = "retry"        // start the next attempt of a task whose attempt failed
	actFinishScope actionKind = "finish-scope" // every child of a running DAG, loop or iteration ended
	actFinishRun   actionKind = "finish-run"   // every root task ended
)

// action is one decision of the planner.
type action struct {
	kind   actionKind
	path   string
	phase  run.Phase // for finish actions
	reason string
}

// planInput is what decide needs besides the state.
type planInput struct {
	slots     int       // how many more attempts may start now (run parallelism)
	now       time.Time // for retry backoff
	canceling bool      // the run is being canceled: only exit tasks still start
	window    int       // open iterations of a loop without a parallelism limit
}

// decide looks at a run's state and returns what should happen next, and
// when to look again if an action is due later (a retry's backoff). It is
// pure: it reads the state and changes nothing.
func decide(s *state, in planInput) ([]action, time.Time) {
	switch s.run.Phase {
	case run.Pending:
		return []action{{kind: actStartRun}}, time.Time{}
	case run.Running:
	default:
		return nil, time.Time{}
	}
	p := &planner{s: s, in: in}
	done, outcome, culprit := p.visit("")
	if done {
		a := action{kind: actFinishRun, phase: run.Succeeded}
		switch {
		case in.canceling:
			a.phase, a.reason = run.Canceled, culprit
		case outcome != "":
			a.phase, a.reason = outcome, culprit
		}
		p.acts = append(p.acts, a)
	}
	return p.acts, p.wakeAt
}

type planner struct {
	s      *state
	in     planInput
	acts   []action
	wakeAt time.Time
}

// visit plans one scope and reports whether all its children ended, and if
// any failed (or, failing that, was canceled), which.
func (p *planner) visit(path string) (done bool, outcome run.Phase, culprit string) {
	s := p.s
	sc := s.scopes[path]
	if sc == nil {
		return true, "", ""
	}
	for sc.first < len(sc.children) && sc.children[sc.first].tr.Phase.Terminal() {
		c := sc.children[sc.first]
		switch {
		case c.tr.Phase == run.Failed && sc.outcome != run.Failed:
			sc.outcome, sc.culprit = run.Failed, c.tr.Path
		case c.tr.Phase == run.Canceled && sc.outcome == "":
			sc.outcome, sc.culprit = run.Canceled, c.tr.Path
		}
		sc.first++
	}
	done, outcome, culprit = true, sc.outcome, sc.culprit
	// A loop keeps at most limit iterations open: its parallelismLimit, or
	// a window that keeps the run's slots busy. Iterations start in order,
	// so the first pending one past the limit ends the scan.
	limit, active := 0, 0
	if lt := s.tasks[path]; lt != nil && lt.tr.Kind == run.KindLoop {
		limit = p.in.window
		if ip := lt.task.IteratorPolicy; ip != nil && ip.ParallelismLimit > 0 {
			limit = ip.ParallelismLimit
		}
	}
	for _, ts := range sc.children[sc.first:] {
		switch ph := ts.tr.Phase; {
		case ph == run.Pending:
			done = false
			if ts.index >= 0 && !p.in.canceling {
				if limit > 0 && active >= limit {
					return done, outcome, culprit
				}
				active++
			}
			p.pending(ts)
		case ph == run.Running:
			done = false
			if ts.index >= 0 {
				active++
			}
			p.running(ts)
		case ph == run.Failed:
			if outcome != run.Failed {
				outcome, culprit = run.Failed, ts.tr.Path
			}
		case ph == run.Canceled:
			if outcome == "" {
				outcome, culprit = run.Canceled, ts.tr.Path
			}
		}
	}
	return done, outcome, culprit
}

func (p *planner) pending(ts *taskState) {
	path := ts.tr.Path
	if p.in.canceling && !p.s.exitHandler(ts) {
		p.acts = append(p.acts, action{kind: actCancelTask, path: path, reason: "run canceled"})
		return
	}
	if ts.index >= 0 {
		p.acts = append(p.acts, action{kind: actStart, path: path})
		return
	}
	blocked, why, ready := upstreamState(p.s, ts)
	switch {
	case blocked:
		p.acts = append(p.acts, action{kind: actSkip, path: path, reason: why})
	case ready:
		if ts.tr.Kind == run.KindContainer {
			if p.in.slots <= 0 {
				return
			}
			p.in.slots--
		}
		p.acts = append(p.acts, action{kind: actStart, path: path})
	}
}

func (p *planner) running(ts *taskState) {
	path := ts.tr.Path
	if isScope(ts.tr.Kind) {
		childDone, outcome, culprit := p.visit(path)
		if childDone {
			a := action{kind: actFinishScope, path: path, phase: run.Succeeded}
			if outcome != "" {
				a.phase, a.reason = outcome, culprit
			}
			p.acts = append(p.acts, a)
		}
		return
	}
	last := ts.lastAttempt()
	if last == nil || !last.Phase.Terminal() {
		return
	}
	// The last attempt failed and the task is waiting for its retry.
	if p.in.canceling {
		p.acts = append(p.acts, action{kind: actCancelTask, path: path, reason: "run canceled"})
		return
	}
	due := last.FinishedAt
	if !strings.HasPrefix(last.Error, interruptedPrefix) {
		due = due.Add(retryDelay(ts.task.RetryPolicy, ts.failures()))
	}
	if due.After(p.in.now) {
		if p.wakeAt.IsZero() || due.Before(p.wakeAt) {
			p.wakeAt = due
		}
		return
	}
	if p.in.slots <= 0 {
		return
	}
	p.in.slots--
	p.acts = append(p.acts, action{kind: actRetry, path: path})
}

// upstreamState reports whether a pending task can never run (blocked, with
// the reason) or can start now (ready). A task with the
// ALL_UPSTREAM_TASKS_COMPLETED strategy waits for its upstream tasks to end,
// however they ended.
func upstreamState(s *state, ts *taskState) (blocked bool, why string, ready bool) {
	if ts.task == nil {
		return true, "task is not in the pipeline spec", false
	}
	ready = true
	for _, up := range s.upstreamOf(ts.task) {
		u := s.tasks[childPath(ts.scope, up)]
		if u == nil {
			return true, fmt.Sprintf("upstream task %s does not exist", up), false
		}
		switch ph := u.tr.Phase; {
		case !ph.Terminal():
			ready = false
		case ph.Done(), ts.completesAll():
		default:
			return true, fmt.Sprintf("upstream task %s %s", up, ph), false
		}
	}
	return false, "", ready
}
