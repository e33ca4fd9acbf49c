//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSemanticsConditions: dsl.If/Elif/Else on an int output (the compiler
// wraps it in int()), on a string output, dsl.Condition, an If on a Python
// component's int return value and on a pipeline parameter. Exactly the
// branches whose condition holds run; every other condition DAG and its
// tasks are skipped with no attempts.
func TestSemanticsConditions(t *testing.T) {
	t.Parallel()
	file := pipelineFile(t, "sem_condition")
	// Leaf tasks and their DAGs; the expected value is the leaf's output, or
	// "" when the branch must be skipped.
	type leaf struct{ dag, task string }
	var (
		big      = leaf{"condition-branches-1/condition-2", "condition-branches-1/condition-2/mark-int"}
		five     = leaf{"condition-branches-1/condition-3", "condition-branches-1/condition-3/mark-int-2"}
		small    = leaf{"condition-branches-1/condition-4", "condition-branches-1/condition-4/mark-int-3"}
		heads    = leaf{"condition-branches-5/condition-6", "condition-branches-5/condition-6/mark"}
		tails    = leaf{"condition-branches-5/condition-7", "condition-branches-5/condition-7/mark-2"}
		condTail = leaf{"condition-8", "condition-8/mark-3"}
		odd      = leaf{"condition-9", "condition-9/mark-int-4"}
		negative = leaf{"condition-10", "condition-10/mark-int-5"}
	)
	cases := []struct {
		name   string
		args   []string
		n      string
		coin   string
		parity string
		want   map[leaf]string
	}{
		{"big_heads_odd", nil, "7", "heads", "1", map[leaf]string{
			big: "big:7", five: "", small: "", heads: "heads:heads", tails: "",
			condTail: "", odd: "odd:7", negative: "",
		}},
		{"five_tails", []string{"-p", "n=5", "-p", "coin=tails"}, "5", "tails", "1", map[leaf]string{
			big: "", five: "five:5", small: "", heads: "", tails: "tails:tails",
			condTail: "condition-tails:tails", odd: "odd:5", negative: "",
		}},
		{"small_else_even_negative", []string{"-p", "n=-4", "-p", "coin=edge"}, "-4", "edge", "0", map[leaf]string{
			big: "", five: "", small: "small:-4", heads: "", tails: "tails:edge",
			condTail: "", odd: "", negative: "negative:-4",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, s := semRun(t, t.TempDir(), file, c.args...)
			semWantRun(t, r, s, 0, "succeeded")
			all := []string{"emit-int", "emit-str", "parity", "condition-branches-1", "condition-branches-5"}
			for l := range c.want {
				all = append(all, l.dag, l.task)
			}
			semWantTasks(t, s, all...)

			semOut(t, semWantRan(t, s, "emit-int"), "out", c.n)
			semOut(t, semWantRan(t, s, "emit-str"), "out", strconv.Quote(c.coin))
			semOut(t, semWantRan(t, s, "parity"), "Output", c.parity)
			// The branch groups themselves always run.
			semWantTask(t, s, "condition-branches-1", "dag", "succeeded", 0)
			semWantTask(t, s, "condition-branches-5", "dag", "succeeded", 0)
			for l, out := range c.want {
				if out == "" {
					semWantNeverRan(t, s, l.dag, "dag", "skipped")
					semWantNeverRan(t, s, l.task, "container", "skipped")
					continue
				}
				semWantTask(t, s, l.dag, "dag", "succeeded", 0)
				semOut(t, semWantRan(t, s, l.task), "out", strconv.Quote(out))
			}
			// The int output reaches the branch as an int.
			for _, l := range []leaf{big, five, small} {
				if c.want[l] != "" {
					semIn(t, s.task(t, l.task), "value", c.n)
				}
			}
		})
	}
}

// TestSemanticsOneOf: dsl.OneOf picks the output of the If/Elif/Else branch
// that ran, for a parameter and for an artifact; the consumer outside the
// branches reads it, and the branch group exposes it under the compiler's
// oneof output name.
func TestSemanticsOneOf(t *testing.T) {
	t.Parallel()
	file := pipelineFile(t, "sem_oneof")
	const (
		pA, pB, pC = "condition-branches-1/condition-2", "condition-branches-1/condition-3", "condition-branches-1/condition-4"
		dX, dY     = "condition-branches-5/condition-6", "condition-branches-5/condition-7"
	)
	cases := []struct {
		mode            string
		paramDAG, param string
		paramValue      string
		dataDAG, data   string
		dataText        string
	}{
		{"a", pA, pA + "/param-a", "from-a", dX, dX + "/data-x", "dataset x"},
		{"b", pB, pB + "/param-b", "from-b-b", dY, dY + "/data-y", "dataset y"},
		{"other", pC, pC + "/param-c", "from-c", dY, dY + "/data-y", "dataset y"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			r, s := semRun(t, t.TempDir(), file, "-p", "mode="+c.mode)
			semWantRun(t, r, s, 0, "succeeded")
			semWantTasks(t, s, "condition-branches-1", "condition-branches-5", "use-param", "use-data",
				pA, pA+"/param-a", pB, pB+"/param-b", pC, pC+"/param-c",
				dX, dX+"/data-x", dY, dY+"/data-y")
			for _, dag := range []string{pA, pB, pC, dX, dY} {
				if dag == c.paramDAG || dag == c.dataDAG {
					semWantTask(t, s, dag, "dag", "succeeded", 0)
					continue
				}
				semWantNeverRan(t, s, dag, "dag", "skipped")
				for _, tk := range s.Tasks {
					if strings.HasPrefix(tk.Name, dag+"/") {
						semWantNeverRan(t, s, tk.Name, "container", "skipped")
					}
				}
			}

			// Parameter.
			semOut(t, semWantRan(t, s, c.param), "out", strconv.Quote(c.paramValue))
			branches := semWantTask(t, s, "condition-branches-1", "dag", "succeeded", 0)
			semOut(t, branches, "pipelinechannel--condition-branches-1-oneof-1", strconv.Quote(c.paramValue))
			use := semWantRan(t, s, "use-param")
			semIn(t, use, "value", strconv.Quote(c.paramValue))
			semOut(t, use, "out", strconv.Quote("got "+c.paramValue))

			// Artifact: the consumer gets the very artifact the branch wrote.
			produced := semWantRan(t, s, c.data).outArt(t, "data")
			if got := readFile(t, produced.URI); got != c.dataText+"\n" {
				t.Errorf("%s wrote %q, want %q", c.data, got, c.dataText+"\n")
			}
			group := semWantTask(t, s, "condition-branches-5", "dag", "succeeded", 0)
			if a := group.arts(t, group.Outputs, "pipelinechannel--condition-branches-5-oneof-1", 1)[0]; a.URI != produced.URI {
				t.Errorf("condition-branches-5 oneof output uri = %q, want %s's %q", a.URI, c.data, produced.URI)
			}
			ud := semWantRan(t, s, "use-data")
			if in := ud.inArt(t, "data"); in.URI != produced.URI || in.Type != "system.Dataset" {
				t.Errorf("use-data input = %+v, want uri %q (from %s), type system.Dataset", in, produced.URI, c.data)
			}
			semOut(t, ud, "out", strconv.Quote("read "+c.dataText))
		})
	}
}

// semExitTask is the exit task: it returns the PipelineTaskFinalStatus it got.
const semExitTask = "report"

// semCheckExit checks the exit task: it ran (succeeded), received the
// final status of exit-handler-1 and returned its fields.
func semCheckExit(t *testing.T, s *semSummary, state string, wantError bool) map[string]any {
	t.Helper()
	rep := semWantRan(t, s, semExitTask)
	got, ok := rep.Outputs.Parameters["Output"].(map[string]any)
	if !ok {
		t.Fatalf("exit task Output = %#v, want an object", rep.Outputs.Parameters["Output"])
	}
	want := map[string]any{
		"tag":                        "exit-task",
		"state":                      state,
		"pipeline_task_name":         "exit-handler-1",
		"pipeline_job_resource_name": s.Name,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("exit task saw %s = %#v, want %#v (all: %s)", k, got[k], v, canon(t, got))
		}
	}
	msg, _ := got["error_message"].(string)
	if wantError {
		if msg == "" {
			t.Errorf("exit task saw no error_message for a %s body (all: %s)", state, canon(t, got))
		}
		if got["error_code"] == nil {
			t.Errorf("exit task saw no error_code for a %s body (all: %s)", state, canon(t, got))
		}
	} else if got["error_message"] != nil || got["error_code"] != nil {
		t.Errorf("exit task saw an error for a succeeded body: %s", canon(t, got))
	}
	// The status input as weir handed it over.
	st, ok := rep.Inputs.Parameters["status"].(map[string]any)
	if !ok {
		t.Fatalf("exit task input status = %#v, want an object", rep.Inputs.Parameters["status"])
	}
	if st["state"] != state || st["pipelineTaskName"] != "exit-handler-1" || st["pipelineJobResourceName"] != s.Name {
		t.Errorf("exit task input status = %s", canon(t, st))
	}
	return got
}

// TestSemanticsExitHandlerSuccess: the exit task runs after a successful body
// and sees SUCCEEDED with no error; the ignore_upstream_failure task gets
// the real upstream value.
func TestSemanticsExitHandlerSuccess(t *testing.T) {
	t.Parallel()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_exit"))
	semWantRun(t, r, s, 0, "succeeded")
	semWantTasks(t, s, "exit-handler-1", "exit-handler-1/body", "exit-handler-1/after-body", "exit-handler-1/cleanup", semExitTask)
	semWantTask(t, s, "exit-handler-1", "dag", "succeeded", 0)
	semOut(t, semWantRan(t, s, "exit-handler-1/body"), "out", `"body-ok"`)
	semOut(t, semWantRan(t, s, "exit-handler-1/after-body"), "out", `"after:body-ok"`)
	cl := semWantRan(t, s, "exit-handler-1/cleanup")
	semIn(t, cl, "text", `"body-ok"`)
	semOut(t, cl, "out", `"cleanup:body-ok"`)
	semCheckExit(t, s, "SUCCEEDED", false)
}

// TestSemanticsExitHandlerFailure: the body fails; the run fails, the task
// after the body never starts, the ignore_upstream_failure task runs with its
// input's default, and the exit task sees FAILED with the error.
func TestSemanticsExitHandlerFailure(t *testing.T) {
	t.Parallel()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_exit"), "-p", "fail=true")
	semWantRun(t, r, s, 1, "failed")
	semWantTasks(t, s, "exit-handler-1", "exit-handler-1/body", "exit-handler-1/after-body", "exit-handler-1/cleanup", semExitTask)
	semWantTask(t, s, "exit-handler-1", "dag", "failed", 0)
	body := semWantTask(t, s, "exit-handler-1/body", "container", "failed", 1)
	if body.ExitCode == nil || *body.ExitCode != 7 {
		t.Errorf("body exit_code = %v, want 7", body.ExitCode)
	}
	semWantNeverRan(t, s, "exit-handler-1/after-body", "container", "skipped")
	cl := semWantRan(t, s, "exit-handler-1/cleanup")
	semIn(t, cl, "text", `"cleanup-default"`)
	semOut(t, cl, "out", `"cleanup:cleanup-default"`)

	got := semCheckExit(t, s, "FAILED", true)
	if msg, _ := got["error_message"].(string); !strings.Contains(msg, "body") {
		t.Errorf("exit task error_message = %q, want it to name the failed task body", msg)
	}
	for _, want := range []string{"exit-handler-1/body", "sem-exit body failing on purpose"} {
		if !strings.Contains(s.Error, want) {
			t.Errorf("run error = %q, want it to contain %q (the failed task and its last log line)", s.Error, want)
		}
	}
}

// TestSemanticsCancel: SIGINT while the body sleeps cancels the run: weir
// exits 1, the body's process is gone, the body is canceled, the tasks that
// had not started are canceled, and the exit task still runs and sees
// CANCELLED.
func TestSemanticsCancel(t *testing.T) {
	t.Parallel()
	home, pidDir := t.TempDir(), t.TempDir()
	w := semStartWeir(t, home, "run", pipelineFile(t, "sem_exit"), "-o", "json",
		"-p", "sleep=60", "-p", "pid_dir="+pidDir)
	pidFile := filepath.Join(pidDir, "body.pid")
	if !semWaitFor(60*time.Second, func() bool { _, err := os.Stat(pidFile); return err == nil }) {
		w.signal(t, syscall.SIGKILL)
		r := w.wait(t, 10*time.Second)
		t.Fatalf("the body never started (no %s)\n%s", pidFile, r)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	if semProcessGone(pid) {
		t.Fatalf("the body's process %d is not running", pid)
	}

	// While it runs, the store shows the run and the body running.
	list := weir(t, home, "runs", "list", "-o", "json")
	var runs []struct {
		RunID string `json:"run_id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(list.stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("runs list -o json while running: %v\n%s", err, list)
	}
	if runs[0].State != "running" {
		t.Errorf("run state while the body sleeps = %q, want running", runs[0].State)
	}
	live := semGet(t, home, runs[0].RunID)
	if tk := live.task(t, "exit-handler-1/body"); tk.State != "running" || tk.Attempts != 1 {
		t.Errorf("body while sleeping: state=%s attempts=%d, want running, 1", tk.State, tk.Attempts)
	}

	w.signal(t, syscall.SIGINT)
	// The exit task may still have to wait for the shared Python
	// environment to be built, so allow for more than the body's sleep.
	r := w.wait(t, commandTimeout)
	s := semDecode(t, r)
	semWantRun(t, r, s, 1, "canceled")
	if !semWaitFor(5*time.Second, func() bool { return semProcessGone(pid) }) {
		t.Errorf("the body's process %d is still running after the cancel", pid)
	}
	if s.RunID != runs[0].RunID {
		t.Errorf("summary run %s, listed run %s", s.RunID, runs[0].RunID)
	}
	semWantTasks(t, s, "exit-handler-1", "exit-handler-1/body", "exit-handler-1/after-body", "exit-handler-1/cleanup", semExitTask)
	semWantTask(t, s, "exit-handler-1", "dag", "canceled", 0)
	body := semWantTask(t, s, "exit-handler-1/body", "container", "canceled", 1)
	if len(body.AttemptHistory) != 1 || body.AttemptHistory[0].State != "canceled" {
		t.Errorf("body attempt history = %+v, want one canceled attempt", body.AttemptHistory)
	} else if d := body.AttemptHistory[0].DurationMS; d > 30000 {
		t.Errorf("the body's attempt lasted %d ms: the 60 s sleep was not stopped by the cancel", d)
	}
	semWantNeverRan(t, s, "exit-handler-1/after-body", "container", "canceled")
	// ignore_upstream_failure() is not an exit handler: once the run is
	// canceled, a task that had not started does not start
	// (docs/cli.md: "tasks that did not start are recorded as canceled,
	// exit handlers still run").
	semWantNeverRan(t, s, "exit-handler-1/cleanup", "container", "canceled")
	semCheckExit(t, s, "CANCELLED", true)

	// The stored run says the same.
	stored := semGet(t, home, s.RunID)
	if stored.State != "canceled" || stored.task(t, semExitTask).State != "succeeded" {
		t.Errorf("runs get: run %s, exit task %s; want canceled, succeeded", stored.State, stored.task(t, semExitTask).State)
	}
}

// TestSemanticsFailure: a failing step fails the run with exit code 1 and an
// error naming the task and its last log line; everything downstream of it
// (directly, transitively, a condition and a nested pipeline) is skipped
// without an attempt; the independent chain, still running when the
// failure happened, completes.
func TestSemanticsFailure(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := semRun(t, home, pipelineFile(t, "sem_failure"), "-p", "code=4")
	semWantRun(t, r, s, 1, "failed")
	semWantTasks(t, s, "explode", "step", "step-2", "condition-1", "condition-1/step-3", "sub", "sub/step", "step-4", "step-5")

	ex := semWantTask(t, s, "explode", "container", "failed", 1)
	if ex.ExitCode == nil || *ex.ExitCode != 4 {
		t.Errorf("explode exit_code = %v, want 4", ex.ExitCode)
	}
	if ex.Error == "" || len(ex.AttemptHistory) != 1 || ex.AttemptHistory[0].State != "failed" {
		t.Errorf("explode: error %q, attempt history %+v; want an error and one failed attempt", ex.Error, ex.AttemptHistory)
	}
	for _, want := range []string{"explode", "sem-failure last words: disk on fire"} {
		if !strings.Contains(s.Error, want) {
			t.Errorf("run error = %q, want it to contain %q (the failed task and its last log line)", s.Error, want)
		}
	}
	logs := weir(t, home, "logs", s.RunID, "explode")
	for _, want := range []string{"sem-failure: first line", "sem-failure: about to exit 4", "sem-failure last words: disk on fire"} {
		if logs.code != 0 || !strings.Contains(logs.stdout, want) {
			t.Errorf("weir logs explode lacks %q\n%s", want, logs)
		}
	}

	semWantNeverRan(t, s, "step", "container", "skipped")
	semWantNeverRan(t, s, "step-2", "container", "skipped")
	semWantNeverRan(t, s, "condition-1", "dag", "skipped")
	semWantNeverRan(t, s, "condition-1/step-3", "container", "skipped")
	semWantNeverRan(t, s, "sub", "dag", "skipped")
	semWantNeverRan(t, s, "sub/step", "container", "skipped")

	slow := semWantRan(t, s, "step-4")
	semOut(t, slow, "out", `"slow."`)
	if slow.DurationMS < 1500 {
		t.Errorf("step-4 took %d ms, want >= 1500 (it sleeps 1.5 s)", slow.DurationMS)
	}
	after := semWantRan(t, s, "step-5")
	semIn(t, after, "text", `"slow."`)
	semOut(t, after, "out", `"slow.."`)
	if t.Failed() {
		t.Logf("%s", s.describe())
	}
}
