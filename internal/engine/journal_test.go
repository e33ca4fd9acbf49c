package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
)

// frozenStore passes everything to the real store until frozen; from then
// on it refuses every write, as a store would see nothing more from a
// process that died: what was committed since is only in the journal.
type frozenStore struct {
	Store
	frozen  atomic.Bool
	refused atomic.Int32
}

func (s *frozenStore) Apply(ctx context.Context, c *run.Changes) error {
	if s.frozen.Load() {
		s.refused.Add(1)
		return errors.New("frozen")
	}
	return s.Store.Apply(ctx, c)
}

// TestJournalReplayAfterCrash drives a run whose changes stop reaching the
// store after its first task succeeded and its second started (the process
// "dies" with them only in the journal), then drives it again over the real
// store: the journal is replayed, the finished task does not run again, the
// running one is adopted, and the run completes.
func TestJournalReplayAfterCrash(t *testing.T) {
	h := newHarness(t, 2)
	fs := &frozenStore{Store: h.store}
	// An executor of its own (the harness's engine reads the harness's
	// executor's notifications).
	ex := newFakeExecutor()
	// An hour: nothing reaches the store before the end unless forced.
	eng := New(fs, ex, nil, Config{Home: h.home, Parallelism: 2, FlushInterval: time.Hour})
	started := make(chan string, 8)
	ex.onStart = func(s executor.Spec) { started <- s.AttemptID }
	r := h.submit(chainSpec([][]int{nil, {0}}), nil)

	ctx, detach := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := eng.Drive(ctx, r.ID, nil)
		errc <- err
	}()
	first := <-started
	ex.finish(first, 0)
	second := <-started
	// Let the second attempt's handle reach the journal, then cut the
	// store off and stop driving (the last flush is refused).
	time.Sleep(50 * time.Millisecond)
	fs.frozen.Store(true)
	detach()
	if err := <-errc; !errors.Is(err, ErrDetached) {
		t.Fatalf("Drive = %v, want ErrDetached", err)
	}
	if fs.refused.Load() == 0 {
		t.Fatal("no write was refused: the test did not leave changes in the journal only")
	}
	snap, tasks := h.snapshot(r.ID)
	if tasks["t0"] != nil && tasks["t0"].Phase == run.Succeeded {
		t.Fatalf("the store already holds t0's success (journal seq %d): nothing left to replay", snap.Run.JournalSeq)
	}
	if fi, err := os.Stat(journalPath(h.home, r.ID)); err != nil || fi.Size() == 0 {
		t.Fatalf("journal: %v, %v; want records", fi, err)
	}

	// The second attempt's process ends while nobody drives the run; the
	// run is then driven again over the real store, with the same
	// executor, which still knows the process.
	ex.finish(second, 0)
	eng2 := New(h.store, ex, nil, Config{Home: h.home, Parallelism: 2})
	done := make(chan *run.Run, 1)
	go func() {
		final, err := eng2.Drive(context.Background(), r.ID, nil)
		if err != nil {
			t.Error(err)
		}
		done <- final
	}()
	var final *run.Run
	select {
	case final = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("resumed run did not end")
	}
	if final == nil || final.Phase != run.Succeeded {
		t.Fatalf("resumed run = %+v", final)
	}
	snap, tasks = h.snapshot(r.ID)
	for _, name := range []string{"t0", "t1"} {
		a := attemptsOf(snap, tasks[name])
		if tasks[name].Phase != run.Succeeded || len(a) != 1 || a[0].Phase != run.Succeeded {
			t.Errorf("%s = %s with attempts %v; want succeeded once", name, tasks[name].Phase, phases(a))
		}
	}
	if n := len(ex.started); n != 2 {
		t.Errorf("%d processes started, want 2 (nothing runs twice)", n)
	}
	if snap.Run.JournalSeq == 0 {
		t.Error("the store records no journal position")
	}
	if fi, err := os.Stat(journalPath(h.home, r.ID)); err != nil || fi.Size() != 0 {
		t.Errorf("journal after the run: %v, %v; want it empty", fi, err)
	}
}

// TestJournalFlushesWhenDue: with nothing else happening (a long step),
// changes reach the store within the flush interval, so other readers of
// the store see a running task.
func TestJournalFlushesWhenDue(t *testing.T) {
	h := newHarness(t, 1)
	ex := newFakeExecutor()
	eng := New(h.store, ex, nil, Config{Home: h.home, Parallelism: 1, FlushInterval: 30 * time.Millisecond})
	started := make(chan string, 4)
	ex.onStart = func(s executor.Spec) { started <- s.AttemptID }
	r := h.submit(chainSpec([][]int{nil}), nil)
	done := make(chan error, 1)
	go func() { _, err := eng.Drive(context.Background(), r.ID, nil); done <- err }()
	id := <-started
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, tasks := h.snapshot(r.ID)
		if tasks["t0"] != nil && tasks["t0"].Phase == run.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running task never reached the store")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ex.finish(id, 0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The run's end is in the store when Drive returns.
	if snap, _ := h.snapshot(r.ID); snap.Run.Phase != run.Succeeded {
		t.Errorf("run = %s after Drive returned", snap.Run.Phase)
	}
}

// TestSnapshotFromMemoryMatchesStore: the snapshot ExecuteSnapshot builds
// from memory describes a run exactly as the store's does, for runs with
// loops, conditions, exit handlers, retries, failures, artifacts and
// cache hits (whose artifacts belong to another run).
func TestSnapshotFromMemoryMatchesStore(t *testing.T) {
	h := newHarness(t, 4)
	h.exec.auto = func(s executor.Spec) (int, bool) {
		switch {
		case s.Command[0] == "make":
			_ = os.MkdirAll(filepath.Dir(s.Command[1]), 0o755)
			_ = os.WriteFile(s.Command[1], []byte("payload"), 0o644)
		case s.Command[0] == "emit-item" && len(s.Command) > 1 && s.Command[1] == "3":
			return 7, true
		}
		return 0, true
	}
	check := func(name string, sub Submission) {
		t.Helper()
		sub.SpecFile, sub.PipelineRoot = name+".yaml", filepath.Join(h.home, "artifacts")
		r, _, err := h.eng.Submit(context.Background(), sub)
		if err != nil {
			t.Fatal(err)
		}
		mem, err := h.eng.ExecuteSnapshot(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := h.snapshot(r.ID)
		got, _ := json.MarshalIndent(report.Summarize(mem), "", " ")
		want, _ := json.MarshalIndent(report.Summarize(stored), "", " ")
		if string(got) != string(want) {
			t.Errorf("%s: summary from memory differs from the store's:\n%s", name, lineDiff(string(want), string(got)))
		}
		if len(mem.Artifacts) != len(stored.Artifacts) || len(mem.Events) != len(stored.Events) || len(mem.Attempts) != len(stored.Attempts) {
			t.Errorf("%s: memory has %d artifacts, %d events, %d attempts; the store %d, %d, %d", name,
				len(mem.Artifacts), len(mem.Events), len(mem.Attempts), len(stored.Artifacts), len(stored.Events), len(stored.Attempts))
		}
	}
	check("semantics", Submission{Spec: []byte(semanticsSpec)})
	check("retries", Submission{Spec: []byte(semanticsSpec), Params: map[string]any{"items": "[1, 2, 3]"}})
	check("cache-first", Submission{Spec: []byte(cacheSpec)})
	check("cache-hit", Submission{Spec: []byte(cacheSpec)})
}

// lineDiff shows the first lines where two texts differ.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n store:  %s\n memory: %s", i+1, x, y)
		}
	}
	return ""
}

// TestWithoutJournal: with a negative FlushInterval every change goes to
// the store at once (what a server on PostgreSQL does): no journal file,
// and the store holds each change as soon as it is reported.
func TestWithoutJournal(t *testing.T) {
	h := newHarness(t, 4)
	ex := newFakeExecutor()
	ex.auto = func(executor.Spec) (int, bool) { return 0, true }
	var stale atomic.Int32
	eng := New(h.store, ex, nil, Config{Home: h.home, Parallelism: 4, FlushInterval: -1, Observe: func(ev Event) {
		if ev.Task == nil {
			return
		}
		// Observers run after the change is persisted: the store has it.
		snap, err := h.store.Snapshot(context.Background(), ev.Run.ID)
		if err != nil {
			t.Error(err)
			return
		}
		// (A round may carry a task through several phases: the store
		// holds the last, so an event's phase is the stored one or an
		// earlier one; the record itself must be there.)
		found := false
		for _, tr := range snap.TaskRuns {
			found = found || tr.ID == ev.Task.ID
		}
		if !found {
			stale.Add(1)
		}
	}})
	r, _, err := eng.Submit(context.Background(), Submission{Spec: []byte(semanticsSpec), SpecFile: "s.yaml", PipelineRoot: filepath.Join(h.home, "artifacts")})
	if err != nil {
		t.Fatal(err)
	}
	final, err := eng.Execute(context.Background(), r.ID)
	if err != nil || final.Phase != run.Succeeded {
		t.Fatalf("run: %v %v", final, err)
	}
	if n := stale.Load(); n > 0 {
		t.Errorf("%d events described a change the store did not hold yet", n)
	}
	if _, err := os.Stat(journalPath(h.home, r.ID)); !os.IsNotExist(err) {
		t.Errorf("journal file: %v, want none", err)
	}
	if snap, _ := h.snapshot(r.ID); snap.Run.JournalSeq != 0 {
		t.Errorf("journal seq = %d, want 0", snap.Run.JournalSeq)
	}
}
