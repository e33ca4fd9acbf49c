package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/executor/executortest"
)

// TestConformanceParkedWaits runs the shared suite with every wait parked
// on a pidfd, the way attempts beyond Options.BlockingWaits are waited for.
func TestConformanceParkedWaits(t *testing.T) {
	executortest.Run(t, func(t *testing.T) executor.Executor {
		return New(Options{WorkRoot: t.TempDir(), KillGrace: 300 * time.Millisecond, BlockingWaits: -1})
	})
}

// TestBlockingWaitsBounded checks that at most Options.BlockingWaits
// attempts are waited for in waitid at once, that the others are waited for
// without a thread and still end with their own status, and that a
// finished wait gives its place back.
func TestBlockingWaitsBounded(t *testing.T) {
	ex := New(Options{WorkRoot: t.TempDir(), KillGrace: 300 * time.Millisecond, BlockingWaits: 2})
	gate := filepath.Join(t.TempDir(), "go")
	const n = 5
	handles := make([]executor.Handle, n)
	for i := range n {
		// Every attempt runs until the gate opens, so all five are
		// waited for at the same time.
		script := fmt.Sprintf("while [ ! -e %s ]; do sleep 0.01; done; exit %d", gate, 10+i)
		h := mustStart(t, ex, shSpec(t, fmt.Sprintf("a%d", i), script))
		// No attempt outlives the test, even a failed one.
		t.Cleanup(func() { _ = ex.Cancel(context.Background(), h) })
		handles[i] = h
	}
	// The waiters start right after their process; give them a moment to
	// take or miss a place.
	deadline := time.Now().Add(10 * time.Second)
	for ex.waits.blocking.Load()+ex.waits.parked.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("waiters started: %d blocking, %d parked; want %d in all",
				ex.waits.blocking.Load(), ex.waits.parked.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b, p := ex.waits.blocking.Load(), ex.waits.parked.Load(); b != 2 || p != n-2 {
		t.Fatalf("waits: %d blocking, %d parked; want 2 and %d", b, p, n-2)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, h := range handles {
		st := waitEnded(t, ex, h)
		if st.State != executor.StateExited || st.ExitCode != 10+i {
			t.Errorf("attempt a%d: %+v; want exited with %d", i, st, 10+i)
		}
	}
	if held := len(ex.blocking); held != 0 {
		t.Fatalf("%d blocking places still held after every attempt ended", held)
	}
	h := mustStart(t, ex, shSpec(t, "after", "exit 0"))
	if st := waitEnded(t, ex, h); st.State != executor.StateExited || st.ExitCode != 0 {
		t.Fatalf("attempt after: %+v", st)
	}
	if b := ex.waits.blocking.Load(); b != 3 {
		t.Errorf("the attempt started after the others ended was not waited for in waitid (%d blocking waits in all, want 3)", b)
	}
}

// TestNoBlockingWaits checks that a negative Options.BlockingWaits keeps
// every wait off a thread.
func TestNoBlockingWaits(t *testing.T) {
	ex := New(Options{WorkRoot: t.TempDir(), BlockingWaits: -1})
	h := mustStart(t, ex, shSpec(t, "a", "exit 4"))
	if st := waitEnded(t, ex, h); st.ExitCode != 4 {
		t.Fatalf("%+v; want exit 4", st)
	}
	if b, p := ex.waits.blocking.Load(), ex.waits.parked.Load(); b != 0 || p != 1 {
		t.Fatalf("waits: %d blocking, %d parked; want 0 and 1", b, p)
	}
}
