package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
)

// TestResumeAfterProcessLoss drives a run until some tasks succeeded and
// others are running, stops driving it (as a crash would), and drives it
// again with an executor that lost every process: the lost attempts are
// recorded as interrupted and retried at once, and tasks that had
// succeeded do not run again.
func TestResumeAfterProcessLoss(t *testing.T) {
	h := newHarness(t, 4)
	// t0 succeeds; t1 and t2 (which need t0) start and then hang.
	started := make(chan string, 8)
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "run-t0" {
			return 0, true
		}
		started <- s.Command[0]
		return 0, false
	}
	r := h.submit(chainSpec([][]int{nil, {0}, {0}, {1, 2}}), nil)
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		<-started
		<-started
		stop()
	}()
	if _, err := h.eng.Drive(ctx, r.ID, nil); !errors.Is(err, ErrDetached) {
		t.Fatalf("Drive = %v, want ErrDetached", err)
	}

	// A new engine over the same store, whose executor knows no process.
	fresh := newFakeExecutor()
	fresh.auto = func(executor.Spec) (int, bool) { return 0, true }
	eng2 := New(h.store, fresh, nil, Config{Home: h.home, Parallelism: 4})
	done, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	final, err := eng2.Drive(done, r.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Succeeded {
		t.Fatalf("resumed run = %s: %s", final.Phase, final.Error)
	}
	snap, tasks := h.snapshot(r.ID)
	if n := len(attemptsOf(snap, tasks["t0"])); n != 1 {
		t.Errorf("t0 ran %d times; a succeeded task must not run again", n)
	}
	for _, name := range []string{"t1", "t2"} {
		a := attemptsOf(snap, tasks[name])
		if len(a) != 2 || a[0].Phase != run.Failed || !strings.HasPrefix(a[0].Error, interruptedPrefix) || a[1].Phase != run.Succeeded {
			t.Errorf("%s attempts = %v %q, want an interrupted one then a success", name, phases(a), a[0].Error)
		}
	}
	if tasks["t3"].Phase != run.Succeeded {
		t.Errorf("t3 = %s", tasks["t3"].Phase)
	}
	for _, s := range fresh.started {
		if strings.Contains(fresh.specs[s].Command[0], "t0") {
			t.Error("t0 started again after the resume")
		}
	}
}

// TestCancelRequestSurvivesRestart: a cancel request stored with the run is
// honoured by whoever drives it next.
func TestCancelRequestSurvivesRestart(t *testing.T) {
	h := newHarness(t, 2)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, false }
	r := h.submit(chainSpec([][]int{nil, {0}}), nil)
	if _, err := h.store.RequestCancel(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	final, err := h.eng.Drive(ctx, r.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Canceled {
		t.Errorf("run = %s, want canceled", final.Phase)
	}
}

// TestRetryRunResumesFromFailedTasks: retrying a failed run reruns the
// failed task and what it blocked, keeps the old attempts, and does not run
// tasks that had succeeded.
func TestRetryRunResumesFromFailedTasks(t *testing.T) {
	h := newHarness(t, 2)
	failT1 := true
	h.exec.auto = func(s executor.Spec) (int, bool) {
		if s.Command[0] == "run-t1" && failT1 {
			return 4, true
		}
		return 0, true
	}
	r := h.submit(chainSpec([][]int{nil, {0}, {1}, nil}), nil)
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil || final.Phase != run.Failed {
		t.Fatalf("first run: %v %v", final, err)
	}
	if err := Retry(context.Background(), h.store, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := Retry(context.Background(), h.store, r.ID); !errors.Is(err, run.ErrConflict) {
		t.Errorf("retrying a run that is not failed: %v, want ErrConflict", err)
	}
	failT1 = false
	before := len(h.exec.started)
	final, err = h.eng.Execute(context.Background(), r.ID)
	if err != nil || final.Phase != run.Succeeded {
		t.Fatalf("retried run: %v %v", final, err)
	}
	snap, tasks := h.snapshot(r.ID)
	if a := attemptsOf(snap, tasks["t1"]); len(a) != 2 || a[0].Phase != run.Failed || a[1].Phase != run.Succeeded || a[1].Number != 2 {
		t.Errorf("t1 attempts = %v", phases(a))
	}
	for _, name := range []string{"t0", "t3"} {
		if n := len(attemptsOf(snap, tasks[name])); n != 1 {
			t.Errorf("%s ran %d times, want once (it had succeeded)", name, n)
		}
	}
	if tasks["t2"].Phase != run.Succeeded || tasks["t2"].Inputs["in1"] != "t1" {
		t.Errorf("t2 = %s %v", tasks["t2"].Phase, tasks["t2"].Inputs)
	}
	if started := len(h.exec.started) - before; started != 2 {
		t.Errorf("the retry started %d attempts, want 2 (t1 and t2)", started)
	}
}
