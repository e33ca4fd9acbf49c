package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
	"github.com/weir-dev/weir/internal/store"
	"sigs.k8s.io/yaml"
)

// chainSpec builds a pipeline whose tasks t0..tn-1 each consume the "out"
// parameter of their upstream tasks (deps[i] lists the upstream indexes).
func chainSpec(deps [][]int) []byte {
	comps := map[string]any{}
	execs := map[string]any{}
	tasks := map[string]any{}
	for i, ups := range deps {
		name := fmt.Sprintf("t%d", i)
		inParams := map[string]any{}
		taskIn := map[string]any{}
		var dependent []string
		for _, u := range ups {
			in := fmt.Sprintf("in%d", u)
			inParams[in] = map[string]any{"parameterType": "STRING"}
			taskIn[in] = map[string]any{"taskOutputParameter": map[string]any{"producerTask": fmt.Sprintf("t%d", u), "outputParameterKey": "out"}}
			dependent = append(dependent, fmt.Sprintf("t%d", u))
		}
		comp := map[string]any{
			"executorLabel":     "exec-" + name,
			"outputDefinitions": map[string]any{"parameters": map[string]any{"out": map[string]any{"parameterType": "STRING"}}},
		}
		if len(inParams) > 0 {
			comp["inputDefinitions"] = map[string]any{"parameters": inParams}
		}
		comps["comp-"+name] = comp
		execs["exec-"+name] = map[string]any{"container": map[string]any{"image": "x", "command": []string{"run-" + name}}}
		task := map[string]any{"taskInfo": map[string]any{"name": name}, "componentRef": map[string]any{"name": "comp-" + name}}
		if len(taskIn) > 0 {
			task["inputs"] = map[string]any{"parameters": taskIn}
			task["dependentTasks"] = dependent
		}
		tasks[name] = task
	}
	doc := map[string]any{
		"pipelineInfo": map[string]any{"name": "gen"}, "schemaVersion": "2.1.0", "sdkVersion": "kfp-2.17.3",
		"root":           map[string]any{"dag": map[string]any{"tasks": tasks}},
		"components":     comps,
		"deploymentSpec": map[string]any{"executors": execs},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

type harness struct {
	t      *testing.T
	store  *store.Store
	exec   *fakeExecutor
	eng    *Engine
	home   string
	mu     sync.Mutex
	events []Event
}

func newHarness(t *testing.T, parallelism int) *harness {
	t.Helper()
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, store: st, exec: newFakeExecutor(), home: home}
	h.eng = New(st, h.exec, nil, Config{Home: home, Parallelism: parallelism, Observe: func(ev Event) {
		h.mu.Lock()
		h.events = append(h.events, ev)
		h.mu.Unlock()
	}})
	return h
}

func (h *harness) submit(specYAML []byte, params map[string]any) *run.Run {
	h.t.Helper()
	r, _, err := h.eng.Submit(context.Background(), Submission{Spec: specYAML, SpecFile: "gen.yaml", Params: params, PipelineRoot: filepath.Join(h.home, "artifacts")})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) snapshot(id string) (*run.Snapshot, map[string]*run.TaskRun) {
	h.t.Helper()
	snap, err := h.store.Snapshot(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	byPath := map[string]*run.TaskRun{}
	for _, tr := range snap.TaskRuns {
		byPath[tr.Path] = tr
	}
	return snap, byPath
}

// TestRandomDAGs is a property test of the planner and applier together:
// on random DAGs with random failures and parallelism, every run ends, no
// task starts before its upstream tasks succeeded (its inputs are the
// upstream outputs), the parallelism limit is never exceeded, tasks
// downstream of a failure never start, and independent tasks still finish.
func TestRandomDAGs(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for iter := 0; iter < 40; iter++ {
		n := 1 + rng.Intn(14)
		deps := make([][]int, n)
		for i := 1; i < n; i++ {
			for j := 0; j < i; j++ {
				if rng.Float64() < 0.25 {
					deps[i] = append(deps[i], j)
				}
			}
		}
		failing := map[string]bool{}
		for i := 0; i < n; i++ {
			if rng.Float64() < 0.1 {
				failing[fmt.Sprintf("t%d", i)] = true
			}
		}
		par := 1 + rng.Intn(4)
		t.Run(fmt.Sprintf("n%d-p%d-%d", n, par, iter), func(t *testing.T) {
			h := newHarness(t, par)
			h.exec.auto = func(s executor.Spec) (int, bool) {
				if failing[strings.TrimPrefix(s.Command[0], "run-")] {
					return 1, true
				}
				return 0, true
			}
			r := h.submit(chainSpec(deps), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			final, err := h.eng.Execute(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if h.exec.maxRun > par {
				t.Errorf("parallelism %d exceeded: %d running at once", par, h.exec.maxRun)
			}
			_, tasks := h.snapshot(r.ID)
			// Expected outcome of every task, computed independently.
			want := map[string]run.Phase{}
			for i := 0; i < n; i++ {
				name := fmt.Sprintf("t%d", i)
				ph := run.Succeeded
				for _, u := range deps[i] {
					if want[fmt.Sprintf("t%d", u)] != run.Succeeded {
						ph = run.Skipped
					}
				}
				if ph == run.Succeeded && failing[name] {
					ph = run.Failed
				}
				want[name] = ph
			}
			anyFailed := false
			for name, ph := range want {
				tr := tasks[name]
				if tr == nil || tr.Phase != ph {
					t.Errorf("task %s = %v, want %s", name, tr, ph)
					continue
				}
				if ph == run.Failed {
					anyFailed = true
				}
				if ph == run.Succeeded {
					if tr.Outputs["out"] != name {
						t.Errorf("task %s output = %v", name, tr.Outputs["out"])
					}
					for _, u := range deps[mustIndex(name)] {
						up := fmt.Sprintf("t%d", u)
						if tr.Inputs[fmt.Sprintf("in%d", u)] != up {
							t.Errorf("task %s input from %s = %v", name, up, tr.Inputs)
						}
						if tasks[up].FinishedAt.After(tr.StartedAt) {
							t.Errorf("task %s started before upstream %s finished", name, up)
						}
					}
				}
			}
			wantRun := run.Succeeded
			if anyFailed {
				wantRun = run.Failed
			}
			if final.Phase != wantRun {
				t.Errorf("run = %s (%s), want %s", final.Phase, final.Error, wantRun)
			}
		})
	}
}

func mustIndex(name string) int {
	var i int
	fmt.Sscanf(name, "t%d", &i)
	return i
}

func TestFailureNamesTaskAndLog(t *testing.T) {
	h := newHarness(t, 2)
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "run-t1" {
			return 3, true
		}
		return 0, true
	}
	r := h.submit(chainSpec([][]int{nil, {0}, {1}, nil}), nil)
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Failed || !strings.Contains(final.Error, "task t1 failed") || !strings.Contains(final.Error, "exit code 3") ||
		!strings.Contains(final.Error, "boom: something broke") {
		t.Errorf("run = %s %q", final.Phase, final.Error)
	}
	snap, tasks := h.snapshot(r.ID)
	if tasks["t2"].Phase != run.Skipped || len(attemptsOf(snap, tasks["t2"])) != 0 {
		t.Errorf("downstream t2 = %s with %d attempts, want skipped, never started", tasks["t2"].Phase, len(attemptsOf(snap, tasks["t2"])))
	}
	if tasks["t3"].Phase != run.Succeeded {
		t.Errorf("independent t3 = %s, want succeeded", tasks["t3"].Phase)
	}
	a := attemptsOf(snap, tasks["t1"])
	if len(a) != 1 || a[0].ExitCode == nil || *a[0].ExitCode != 3 || a[0].Phase != run.Failed {
		t.Errorf("t1 attempts = %+v", a)
	}
}

func TestStartFailureFailsTask(t *testing.T) {
	h := newHarness(t, 2)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	y := strings.Replace(string(chainSpec([][]int{nil})), "run-t0", "no-such-binary", 1)
	r := h.submit([]byte(y), nil)
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Failed || !strings.Contains(final.Error, "executable file not found") {
		t.Errorf("run = %s %q", final.Phase, final.Error)
	}
}

func TestCancelStopsRunningAttempts(t *testing.T) {
	h := newHarness(t, 4)
	started := make(chan string, 10)
	h.exec.onStart = func(s executor.Spec) { started <- s.AttemptID }
	r := h.submit(chainSpec([][]int{nil, nil, {0, 1}}), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		<-started
		cancel()
	}()
	final, err := h.eng.Execute(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Canceled {
		t.Fatalf("run = %s, want canceled", final.Phase)
	}
	if len(h.exec.canceled) != 2 {
		t.Errorf("canceled %d attempts, want 2", len(h.exec.canceled))
	}
	snap, tasks := h.snapshot(r.ID)
	for _, name := range []string{"t0", "t1", "t2"} {
		if tasks[name].Phase != run.Canceled {
			t.Errorf("%s = %s, want canceled", name, tasks[name].Phase)
		}
	}
	for _, a := range snap.Attempts {
		if a.Phase != run.Canceled {
			t.Errorf("attempt %s = %s, want canceled", a.ID, a.Phase)
		}
	}
}

func TestParametersReachTasks(t *testing.T) {
	h := newHarness(t, 1)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	spec := `
pipelineInfo: {name: params}
schemaVersion: 2.1.0
root:
  inputDefinitions:
    parameters:
      n: {parameterType: NUMBER_INTEGER, defaultValue: 3.0}
      xs: {parameterType: LIST, defaultValue: [1.0, 2.0]}
  dag:
    tasks:
      t0:
        taskInfo: {name: t0}
        componentRef: {name: comp-t0}
        inputs:
          parameters:
            n: {componentInputParameter: n}
            xs: {componentInputParameter: xs}
            msg: {runtimeValue: {constant: "n is {{$.inputs.parameters['pipelinechannel--n']}}"}}
            pipelinechannel--n: {componentInputParameter: n}
components:
  comp-t0:
    executorLabel: exec-t0
    inputDefinitions:
      parameters:
        n: {parameterType: NUMBER_INTEGER}
        xs: {parameterType: LIST}
        msg: {parameterType: STRING}
        d: {parameterType: NUMBER_DOUBLE, defaultValue: 0.5}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-t0:
      container: {image: x, command: [run-t0, "{{$.inputs.parameters['n']}}", "{{$.inputs.parameters['xs']}}", "{{$.inputs.parameters['d']}}"]}
`
	r := h.submit([]byte(spec), map[string]any{"n": "7"})
	if _, err := h.eng.Execute(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	_, tasks := h.snapshot(r.ID)
	in := tasks["t0"].Inputs
	if in["n"] != int64(7) || in["msg"] != "n is 7" || in["d"] != 0.5 {
		t.Errorf("inputs = %#v", in)
	}
	h.exec.mu.Lock()
	defer h.exec.mu.Unlock()
	var argv []string
	for _, s := range h.exec.specs {
		argv = s.Command
	}
	if got := strings.Join(argv[1:], " "); got != "7 [1,2] 0.5" {
		t.Errorf("argv = %q", got)
	}
}

func attemptsOf(s *run.Snapshot, tr *run.TaskRun) []*run.Attempt {
	var out []*run.Attempt
	for _, a := range s.Attempts {
		if a.TaskRunID == tr.ID {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func phases(as []*run.Attempt) []run.Phase {
	var out []run.Phase
	for _, a := range as {
		out = append(out, a.Phase)
	}
	return out
}

func retryPolicy(base, max string, factor float64) *spec.RetryPolicy {
	return &spec.RetryPolicy{BackoffDuration: base, BackoffMaxDuration: max, BackoffFactor: factor, MaxRetryCount: 5}
}
