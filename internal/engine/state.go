package engine

import (
	"sort"
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// state is the engine's in-memory mirror of one run: what the store holds,
// indexed for planning. It is rebuilt from a snapshot on start, so nothing
// here is ever the only copy of a fact.
type state struct {
	pipe     *spec.Pipeline
	run      *run.Run
	tasks    map[string]*taskState // by path
	byID     map[string]*taskState
	attempts map[string]*attemptState // by attempt id
	// scopes holds, per scope path ("" is the root DAG), its children: a
	// DAG's tasks, a loop's iterations in index order.
	scopes map[string]*scope
	// upstream caches spec.Upstream per task.
	upstream map[*spec.Task][]string
	// running counts attempts in the running phase.
	runningAttempts int
}

type taskState struct {
	tr       *run.TaskRun
	task     *spec.Task // for an iteration: its loop's task
	comp     *spec.Component
	scope    string // the enclosing scope's path, "" for the root
	index    int    // an iteration's position in its loop, else -1
	attempts []*run.Attempt
	inArts   map[string][]*run.Artifact
	outArts  map[string][]*run.Artifact
}

// scope is the children of a DAG, loop or iteration, with a scan cursor:
// children before first have all ended, and outcome/culprit remember
// whether one of them failed or was canceled. The planner advances first,
// a cache that never changes what it decides, so that a loop of many
// iterations is not rescanned from the start on every round.
type scope struct {
	children []*taskState
	first    int
	outcome  run.Phase
	culprit  string
}

type attemptState struct {
	a    *run.Attempt
	task *taskState
	step *stepRuntime // nil when the attempt was not started by this process
	// reclaim, when set, says why the attempt's process is being stopped
	// after a restart: however it ends, the attempt is interrupted.
	reclaim string
}

func childPath(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "/" + name
}

func scopeOf(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	return path[:i]
}

// newState indexes a stored snapshot against its pipeline.
func newState(p *spec.Pipeline, snap *run.Snapshot) *state {
	s := &state{
		pipe: p, run: snap.Run,
		tasks: map[string]*taskState{}, byID: map[string]*taskState{},
		attempts: map[string]*attemptState{}, scopes: map[string]*scope{},
		upstream: map[*spec.Task][]string{},
	}
	// Parents before children: a child's place in the spec is found
	// through its parent.
	trs := append([]*run.TaskRun{}, snap.TaskRuns...)
	sort.SliceStable(trs, func(i, j int) bool {
		return strings.Count(trs[i].Path, "/") < strings.Count(trs[j].Path, "/")
	})
	for _, tr := range trs {
		ts := &taskState{tr: tr, scope: scopeOf(tr.Path), index: -1,
			inArts: map[string][]*run.Artifact{}, outArts: map[string][]*run.Artifact{}}
		parent := s.byID[tr.ParentID]
		switch {
		case parent != nil && parent.tr.Kind == run.KindLoop:
			ts.task, ts.comp = parent.task, parent.comp
			ts.index, _ = strconv.Atoi(tr.Name)
		default:
			scope := &p.Root
			if parent != nil {
				scope = parent.comp
			}
			if scope != nil && scope.DAG != nil {
				ts.task = scope.DAG.Tasks[tr.Name]
			}
			if ts.task != nil {
				ts.comp = p.Components[ts.task.ComponentRef.Name]
			}
		}
		s.add(ts)
	}
	for _, a := range snap.Attempts {
		if ts := s.byID[a.TaskRunID]; ts != nil {
			ts.attempts = append(ts.attempts, a)
			s.attempts[a.ID] = &attemptState{a: a, task: ts}
			if a.Phase == run.Running {
				s.runningAttempts++
			}
		}
	}
	arts := map[string]*run.Artifact{}
	for _, a := range snap.Artifacts {
		arts[a.ID] = a
	}
	for _, e := range snap.Events {
		ts, a := s.byID[e.TaskRunID], arts[e.ArtifactID]
		if ts == nil || a == nil {
			continue
		}
		m := ts.inArts
		if e.Kind == run.EventOutput {
			m = ts.outArts
		}
		m[e.Name] = append(m[e.Name], a)
	}
	for _, sc := range s.scopes {
		sort.SliceStable(sc.children, func(i, j int) bool {
			a, b := sc.children[i], sc.children[j]
			if a.index >= 0 && b.index >= 0 {
				return a.index < b.index
			}
			return a.tr.Path < b.tr.Path
		})
	}
	return s
}

// add indexes a task state under its scope.
func (s *state) add(ts *taskState) {
	s.tasks[ts.tr.Path] = ts
	s.byID[ts.tr.ID] = ts
	s.scope(ts.scope).children = append(s.scope(ts.scope).children, ts)
}

// scope returns the children of a scope path, creating the entry.
func (s *state) scope(path string) *scope {
	sc := s.scopes[path]
	if sc == nil {
		sc = &scope{}
		s.scopes[path] = sc
	}
	return sc
}

func (s *state) upstreamOf(t *spec.Task) []string {
	if u, ok := s.upstream[t]; ok {
		return u
	}
	u := spec.Upstream(t)
	s.upstream[t] = u
	return u
}

func (ts *taskState) lastAttempt() *run.Attempt {
	if len(ts.attempts) == 0 {
		return nil
	}
	return ts.attempts[len(ts.attempts)-1]
}

// completesAll reports whether a task runs once its upstream tasks ended,
// however they ended (exit handlers, ignore_upstream_failure).
func (ts *taskState) completesAll() bool {
	return ts.task != nil && ts.task.TriggerPolicy != nil && ts.task.TriggerPolicy.Strategy == spec.StrategyAllUpstreamCompleted
}

// exitHandler reports whether a task is the exit task of a dsl.ExitHandler:
// it runs whatever its upstream did and, unlike other such tasks
// (ignore_upstream_failure), also when the run is canceled. The compiler
// marks it by its dependency on an exit-handler DAG or by the final status
// it takes.
func (s *state) exitHandler(ts *taskState) bool {
	if !ts.completesAll() {
		return false
	}
	if ts.task.Inputs != nil {
		for _, ip := range ts.task.Inputs.Parameters {
			if ip != nil && ip.TaskFinalStatus != nil {
				return true
			}
		}
	}
	for _, up := range s.upstreamOf(ts.task) {
		if u := s.tasks[childPath(ts.scope, up)]; u != nil && strings.HasPrefix(u.tr.Component, "comp-exit-handler-") {
			return true
		}
	}
	return false
}

// kindOf says how a task runs.
func kindOf(p *spec.Pipeline, t *spec.Task, c *spec.Component) run.Kind {
	if t != nil && (t.ParameterIterator != nil || t.ArtifactIterator != nil) {
		return run.KindLoop
	}
	if c == nil || c.DAG != nil {
		return run.KindDAG
	}
	if ex := p.DeploymentSpec.Executors[c.ExecutorLabel]; ex != nil && ex.Importer != nil {
		return run.KindImporter
	}
	return run.KindContainer
}

// isScope reports whether a kind has children.
func isScope(k run.Kind) bool {
	return k == run.KindDAG || k == run.KindLoop || k == run.KindIteration
}
