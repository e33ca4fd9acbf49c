package engine

import (
	"sort"
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
	// scopes lists, per open scope path ("" is the root DAG), the paths of
	// its child tasks in name order.
	scopes map[string][]string
}

type taskState struct {
	tr       *run.TaskRun
	task     *spec.Task
	comp     *spec.Component
	scope    string // the enclosing DAG's path, "" for the root
	attempts []*run.Attempt
	inArts   map[string][]*run.Artifact
	outArts  map[string][]*run.Artifact
}

type attemptState struct {
	a    *run.Attempt
	task *taskState
	step *stepRuntime // nil when the attempt was not started by this process
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

// scopeComponent returns the DAG component of a scope.
func (s *state) scopeComponent(scope string) *spec.Component {
	if scope == "" {
		return &s.pipe.Root
	}
	if ts := s.tasks[scope]; ts != nil {
		return ts.comp
	}
	return nil
}

// newState indexes a stored snapshot against its pipeline.
func newState(p *spec.Pipeline, snap *run.Snapshot) *state {
	s := &state{
		pipe: p, run: snap.Run,
		tasks: map[string]*taskState{}, byID: map[string]*taskState{},
		attempts: map[string]*attemptState{}, scopes: map[string][]string{},
	}
	for _, tr := range snap.TaskRuns {
		ts := &taskState{tr: tr, scope: scopeOf(tr.Path), inArts: map[string][]*run.Artifact{}, outArts: map[string][]*run.Artifact{}}
		if dag := s.scopeComponentFromSpec(ts.scope); dag != nil && dag.DAG != nil {
			ts.task = dag.DAG.Tasks[tr.Name]
		}
		if ts.task != nil {
			ts.comp = p.Components[ts.task.ComponentRef.Name]
		}
		s.tasks[tr.Path] = ts
		s.byID[tr.ID] = ts
	}
	for _, a := range snap.Attempts {
		if ts := s.byID[a.TaskRunID]; ts != nil {
			ts.attempts = append(ts.attempts, a)
			s.attempts[a.ID] = &attemptState{a: a, task: ts}
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
	s.scopes[""] = nil
	for path, ts := range s.tasks {
		s.scopes[ts.scope] = append(s.scopes[ts.scope], path)
	}
	for k := range s.scopes {
		sort.Strings(s.scopes[k])
	}
	return s
}

// scopeComponentFromSpec resolves a scope path to its DAG component by
// walking the spec, so it works before the scope's own task state exists.
func (s *state) scopeComponentFromSpec(scope string) *spec.Component {
	c := &s.pipe.Root
	if scope == "" {
		return c
	}
	for _, name := range strings.Split(scope, "/") {
		if c == nil || c.DAG == nil {
			return nil
		}
		t := c.DAG.Tasks[name]
		if t == nil {
			return nil
		}
		c = s.pipe.Components[t.ComponentRef.Name]
	}
	return c
}

// running counts the container attempts currently running.
func (s *state) running() int {
	n := 0
	for _, as := range s.attempts {
		if as.a.Phase == run.Running {
			n++
		}
	}
	return n
}

func (ts *taskState) lastAttempt() *run.Attempt {
	if len(ts.attempts) == 0 {
		return nil
	}
	return ts.attempts[len(ts.attempts)-1]
}

// kindOf says how a task runs.
func kindOf(p *spec.Pipeline, c *spec.Component) run.Kind {
	if c == nil || c.DAG != nil {
		return run.KindDAG
	}
	if ex := p.DeploymentSpec.Executors[c.ExecutorLabel]; ex != nil && ex.Importer != nil {
		return run.KindImporter
	}
	return run.KindContainer
}
