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
