package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// A small IR used by the semantics tests: an "emit" component returns its
// task path as "out" (see fakeExecutor), "loop" fans it out over a list,
// a condition guards one branch, and "final" is an exit task.
const semanticsSpec = `
pipelineInfo: {name: sem}
schemaVersion: 2.1.0
root:
  inputDefinitions:
    parameters:
      items: {parameterType: LIST, defaultValue: [1, 2, 3, 4, 5]}
      limit: {parameterType: NUMBER_INTEGER, defaultValue: 2}
      flag: {parameterType: STRING, defaultValue: "go"}
  dag:
    tasks:
      body:
        taskInfo: {name: body}
        componentRef: {name: comp-body}
        inputs:
          parameters:
            pipelinechannel--items: {componentInputParameter: items}
            pipelinechannel--flag: {componentInputParameter: flag}
      final:
        taskInfo: {name: final}
        componentRef: {name: comp-emit}
        dependentTasks: [body]
        triggerPolicy: {strategy: ALL_UPSTREAM_TASKS_COMPLETED}
        inputs:
          parameters:
            status: {taskFinalStatus: {producerTask: body}}
components:
  comp-body:
    inputDefinitions:
      parameters:
        pipelinechannel--items: {parameterType: LIST}
        pipelinechannel--flag: {parameterType: STRING}
    dag:
      tasks:
        loop:
          taskInfo: {name: loop}
          componentRef: {name: comp-loop}
          inputs:
            parameters:
              pipelinechannel--items: {componentInputParameter: pipelinechannel--items}
          parameterIterator:
            itemInput: pipelinechannel--items-loop-item
            items: {inputParameter: pipelinechannel--items}
          iteratorPolicy: {parallelismLimit: 2}
        gather:
          taskInfo: {name: gather}
          componentRef: {name: comp-gather}
          dependentTasks: [loop]
          inputs:
            parameters:
              vals: {taskOutputParameter: {producerTask: loop, outputParameterKey: pipelinechannel--emit-out}}
        cond:
          taskInfo: {name: cond}
          componentRef: {name: comp-cond}
          inputs:
            parameters:
              pipelinechannel--flag: {componentInputParameter: pipelinechannel--flag}
          triggerPolicy:
            condition: "inputs.parameter_values['pipelinechannel--flag'] == 'go'"
  comp-loop:
    inputDefinitions:
      parameters:
        pipelinechannel--items: {parameterType: LIST}
        pipelinechannel--items-loop-item: {parameterType: STRING}
    outputDefinitions:
      parameters:
        pipelinechannel--emit-out: {parameterType: LIST}
    dag:
      outputs:
        parameters:
          pipelinechannel--emit-out:
            valueFromParameter: {producerSubtask: emit, outputParameterKey: out}
      tasks:
        emit:
          taskInfo: {name: emit}
          componentRef: {name: comp-emit-item}
          inputs:
            parameters:
              item: {componentInputParameter: pipelinechannel--items-loop-item}
          retryPolicy: {maxRetryCount: 2, backoffDuration: 0s, backoffFactor: 2, backoffMaxDuration: 1s}
  comp-cond:
    inputDefinitions:
      parameters:
        pipelinechannel--flag: {parameterType: STRING}
    dag:
      tasks:
        guarded:
          taskInfo: {name: guarded}
          componentRef: {name: comp-emit}
  comp-emit:
    executorLabel: exec-emit
    inputDefinitions:
      parameters:
        status: {parameterType: TASK_FINAL_STATUS, isOptional: true}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
  comp-emit-item:
    executorLabel: exec-emit-item
    inputDefinitions:
      parameters:
        item: {parameterType: STRING}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
  comp-gather:
    executorLabel: exec-gather
    inputDefinitions:
      parameters:
        vals: {parameterType: LIST}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-emit:
      container: {image: x, command: [emit]}
    exec-emit-item:
      container: {image: x, command: [emit-item, "{{$.inputs.parameters['item']}}"]}
    exec-gather:
      container: {image: x, command: [gather]}
`

func TestLoopConditionExitHandler(t *testing.T) {
	h := newHarness(t, 8)
	running, maxLoop := 0, 0
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "emit-item" {
			h.exec.mu.Lock()
			running++
			if running > maxLoop {
				maxLoop = running
			}
			h.exec.mu.Unlock()
			go func(id string) {
				time.Sleep(5 * time.Millisecond)
				h.exec.mu.Lock()
				running--
				h.exec.mu.Unlock()
				h.exec.finish(id, 0)
			}(s.AttemptID)
			return 0, false
		}
		return 0, true
	}
	r := h.submit([]byte(semanticsSpec), nil)
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Succeeded {
		t.Fatalf("run %s: %s", final.Phase, final.Error)
	}
	if maxLoop > 2 {
		t.Errorf("loop parallelism limit 2 exceeded: %d iterations ran at once", maxLoop)
	}
	_, tasks := h.snapshot(r.ID)
	got := tasks["body/loop"].Outputs["pipelinechannel--emit-out"]
	want := []any{"body/loop/0/emit", "body/loop/1/emit", "body/loop/2/emit", "body/loop/3/emit", "body/loop/4/emit"}
	if !equalJSON(got, want) {
		t.Errorf("collected = %v, want %v", got, want)
	}
	if v := tasks["body/gather"].Inputs["vals"]; !equalJSON(v, want) {
		t.Errorf("gather received %v", v)
	}
	if it := tasks["body/loop/3"]; it.Inputs["pipelinechannel--items-loop-item"] != int64(4) {
		t.Errorf("iteration 3 item = %#v", it.Inputs)
	}
	if tasks["body/cond/guarded"].Phase != run.Succeeded {
		t.Errorf("guarded = %s", tasks["body/cond/guarded"].Phase)
	}
	st := tasks["final"].Inputs["status"].(map[string]any)
	if st["state"] != "SUCCEEDED" || st["pipelineTaskName"] != "body" {
		t.Errorf("final status = %v", st)
	}

	// A false condition skips the branch and everything inside it.
	h2 := newHarness(t, 8)
	h2.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	r2 := h2.submit([]byte(semanticsSpec), map[string]any{"flag": "stop", "items": "[]"})
	if final, err := h2.eng.Execute(context.Background(), r2.ID); err != nil || final.Phase != run.Succeeded {
		t.Fatalf("run 2: %v %v", final, err)
	}
	_, tasks = h2.snapshot(r2.ID)
	if tasks["body/cond"].Phase != run.Skipped || tasks["body/cond/guarded"].Phase != run.Skipped {
		t.Errorf("cond = %s, guarded = %v", tasks["body/cond"].Phase, tasks["body/cond/guarded"])
	}
	if v := tasks["body/gather"].Inputs["vals"]; !equalJSON(v, []any{}) {
		t.Errorf("empty loop collected %v, want []", v)
	}
}

func TestRetriesMakeNewAttempts(t *testing.T) {
	h := newHarness(t, 4)
	fails := map[string]int{}
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "emit-item" && len(s.Command) > 1 {
			item := s.Command[1]
			fails[item]++
			// item 2 fails twice then succeeds; item 3 always fails.
			if (item == "2" && fails[item] <= 2) || item == "3" {
				return 7, true
			}
		}
		return 0, true
	}
	r := h.submit([]byte(semanticsSpec), map[string]any{"items": "[1, 2, 3]"})
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Failed || !strings.Contains(final.Error, "body/loop/2/emit") {
		t.Errorf("run = %s %q", final.Phase, final.Error)
	}
	snap, tasks := h.snapshot(r.ID)
	a1 := attemptsOf(snap, tasks["body/loop/1/emit"])
	if len(a1) != 3 || a1[0].Phase != run.Failed || a1[1].Phase != run.Failed || a1[2].Phase != run.Succeeded {
		t.Errorf("item 2 attempts = %d %v", len(a1), phases(a1))
	}
	if tasks["body/loop/1/emit"].Phase != run.Succeeded {
		t.Errorf("item 2 task = %s", tasks["body/loop/1/emit"].Phase)
	}
	a2 := attemptsOf(snap, tasks["body/loop/2/emit"])
	if len(a2) != 3 || tasks["body/loop/2/emit"].Phase != run.Failed || !strings.Contains(tasks["body/loop/2/emit"].Error, "after 3 attempts") {
		t.Errorf("item 3: %d attempts, task %s %q", len(a2), tasks["body/loop/2/emit"].Phase, tasks["body/loop/2/emit"].Error)
	}
	for _, a := range a2 {
		if a.ExitCode == nil || *a.ExitCode != 7 || !strings.Contains(a.Error, "boom") {
			t.Errorf("failed attempt kept without its exit code or error: %+v", a)
		}
	}
	// The exit task saw the failure; gather never ran.
	if st := tasks["final"].Inputs["status"].(map[string]any); st["state"] != "FAILED" {
		t.Errorf("final status = %v", st)
	}
	if tasks["body/gather"].Phase != run.Skipped {
		t.Errorf("gather = %s, want skipped", tasks["body/gather"].Phase)
	}
}

func TestRetryDelay(t *testing.T) {
	cases := []struct {
		base, max string
		factor    float64
		n         int
		want      time.Duration
	}{
		{"1s", "10s", 2, 1, time.Second},
		{"1s", "10s", 2, 3, 4 * time.Second},
		{"1s", "10s", 2, 5, 10 * time.Second},
		{"0s", "3600s", 2, 4, 0},
		{"2s", "", 0, 2, 4 * time.Second},
	}
	for _, c := range cases {
		rp := retryPolicy(c.base, c.max, c.factor)
		if got := retryDelay(rp, c.n); got != c.want {
			t.Errorf("retryDelay(%s x %.0f^(%d-1) cap %s) = %s, want %s", c.base, c.factor, c.n, c.max, got, c.want)
		}
	}
}

func TestCancelRunsExitHandler(t *testing.T) {
	h := newHarness(t, 8)
	started := make(chan string, 16)
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "emit" {
			return 0, true // the exit task
		}
		started <- s.AttemptID
		return 0, false // body tasks run until canceled
	}
	r := h.submit([]byte(semanticsSpec), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	final, err := h.eng.Execute(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Canceled {
		t.Fatalf("run = %s", final.Phase)
	}
	_, tasks := h.snapshot(r.ID)
	if tasks["final"].Phase != run.Succeeded {
		t.Errorf("exit task = %s, want succeeded after cancel", tasks["final"].Phase)
	}
	if st := tasks["final"].Inputs["status"].(map[string]any); st["state"] != "CANCELLED" {
		t.Errorf("exit task saw %v, want CANCELLED", st)
	}
	for path, tr := range tasks {
		if path != "final" && !tr.Phase.Terminal() {
			t.Errorf("%s left %s", path, tr.Phase)
		}
	}
}

// cacheSpec produces an artifact and consumes it, both cacheable.
const cacheSpec = `
pipelineInfo: {name: cache}
schemaVersion: 2.1.0
root:
  inputDefinitions:
    parameters:
      n: {parameterType: NUMBER_INTEGER, defaultValue: 1}
  dag:
    tasks:
      make:
        taskInfo: {name: make}
        componentRef: {name: comp-make}
        cachingOptions: {enableCache: true}
        inputs:
          parameters:
            n: {componentInputParameter: n}
      use:
        taskInfo: {name: use}
        componentRef: {name: comp-use}
        cachingOptions: {enableCache: true}
        inputs:
          artifacts:
            data: {taskOutputArtifact: {producerTask: make, outputArtifactKey: data}}
components:
  comp-make:
    executorLabel: exec-make
    inputDefinitions:
      parameters:
        n: {parameterType: NUMBER_INTEGER}
    outputDefinitions:
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset}}
      parameters:
        out: {parameterType: STRING}
  comp-use:
    executorLabel: exec-use
    inputDefinitions:
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset}}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-make:
      container: {image: x, command: [make, "{{$.outputs.artifacts['data'].path}}"]}
    exec-use:
      container: {image: x, command: [use]}
`

func TestCachingReusesAndMissesOnVanishedArtifacts(t *testing.T) {
	h := newHarness(t, 2)
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "make" {
			p := s.Command[1]
			_ = os.MkdirAll(filepath.Dir(p), 0o755)
			_ = os.WriteFile(p, []byte("payload"), 0o644)
		}
		return 0, true
	}
	runOnce := func(params map[string]any, noCache bool) map[string]*run.TaskRun {
		r, _, err := h.eng.Submit(context.Background(), Submission{Spec: []byte(cacheSpec), SpecFile: "c.yaml", Params: params,
			PipelineRoot: filepath.Join(h.home, "artifacts"), Options: run.Options{NoCache: noCache}})
		if err != nil {
			t.Fatal(err)
		}
		if f, err := h.eng.Execute(context.Background(), r.ID); err != nil || f.Phase != run.Succeeded {
			t.Fatalf("run: %v %v", f, err)
		}
		_, tasks := h.snapshot(r.ID)
		return tasks
	}
	first := runOnce(nil, false)
	if first["make"].Phase != run.Succeeded || first["use"].Phase != run.Succeeded {
		t.Fatalf("first run: make %s use %s", first["make"].Phase, first["use"].Phase)
	}
	second := runOnce(nil, false)
	if second["make"].Phase != run.Cached || second["use"].Phase != run.Cached || second["make"].CachedFrom == "" {
		t.Errorf("second run: make %s use %s", second["make"].Phase, second["use"].Phase)
	}
	if second["make"].Outputs["out"] != first["make"].Outputs["out"] {
		t.Errorf("cached outputs differ: %v vs %v", second["make"].Outputs, first["make"].Outputs)
	}
	// Another parameter value is another key.
	if third := runOnce(map[string]any{"n": "2"}, false); third["make"].Phase != run.Succeeded {
		t.Errorf("changed input: make %s, want succeeded", third["make"].Phase)
	}
	// --no-cache runs everything.
	if nc := runOnce(nil, true); nc["make"].Phase != run.Succeeded || nc["use"].Phase != run.Succeeded {
		t.Errorf("no-cache: make %s use %s", nc["make"].Phase, nc["use"].Phase)
	}
	// Deleting every produced file makes the entries misses.
	if err := os.RemoveAll(filepath.Join(h.home, "artifacts")); err != nil {
		t.Fatal(err)
	}
	if again := runOnce(nil, false); again["make"].Phase != run.Succeeded {
		t.Errorf("vanished artifact: make %s, want a miss (succeeded)", again["make"].Phase)
	}
}

func TestInvalidConditionRejectedBeforeRun(t *testing.T) {
	bad := strings.Replace(semanticsSpec, "== 'go'", "== 'go' &&", 1)
	_, _, _, err := Prepare(Submission{Spec: []byte(bad), SpecFile: "sem.yaml"})
	var ve *spec.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "sem.yaml: components.comp-body.dag.tasks.cond.triggerPolicy.condition") {
		t.Fatalf("err = %v, want a validation error naming the condition", err)
	}
}
