// Package storetest is the conformance suite every store backend passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

// Run exercises a freshly opened, empty store.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, open(t)) })
	t.Run("Transitions", func(t *testing.T) { transitions(t, open(t)) })
	t.Run("AtomicBatch", func(t *testing.T) { atomicBatch(t, open(t)) })
	t.Run("PrefixLookup", func(t *testing.T) { prefixLookup(t, open(t)) })
	t.Run("Lineage", func(t *testing.T) { lineage(t, open(t)) })
	t.Run("Pipelines", func(t *testing.T) { pipelines(t, open(t)) })
	t.Run("Experiments", func(t *testing.T) { experiments(t, open(t)) })
	t.Run("ListRuns", func(t *testing.T) { listRuns(t, open(t)) })
	t.Run("RunControl", func(t *testing.T) { runControl(t, open(t)) })
	t.Run("Cache", func(t *testing.T) { cache(t, open(t)) })
	t.Run("ConcurrentTransitions", func(t *testing.T) { concurrentTransitions(t, open(t)) })
	t.Run("OddText", func(t *testing.T) { oddText(t, open(t)) })
	t.Run("Substring", func(t *testing.T) { substring(t, open(t)) })
	t.Run("JournalMark", func(t *testing.T) { journalMark(t, open(t)) })
	t.Run("ManyRows", func(t *testing.T) { manyRows(t, open(t)) })
}

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 123456000, time.UTC)

func newRun(id string) *run.Run {
	return &run.Run{
		ID: id, PipelineName: "p", DisplayName: "p run", Spec: []byte("spec"), SpecFile: "p.yaml",
		Parameters:   map[string]any{"n": int64(3), "r": 0.5, "l": []any{int64(1), "x"}, "s": map[string]any{"a": true}},
		PipelineRoot: "/tmp/root", Options: run.Options{Parallelism: 4, NoCache: true},
		Phase: run.Pending, CreatedAt: t0,
	}
}

func newTask(runID, id, path string) *run.TaskRun {
	return &run.TaskRun{ID: id, RunID: runID, Path: path, Name: path, Component: "comp-" + path, Kind: run.KindContainer,
		Phase: run.Pending, Inputs: map[string]any{"k": int64(7)}, CreatedAt: t0}
}

func roundTrip(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("run-1")
	tr := newTask(r.ID, "tr-1", "train")
	code := 0
	a := &run.Attempt{ID: "at-1", TaskRunID: tr.ID, Number: 1, Phase: run.Running, Handle: "h", LogPath: "/l", CreatedAt: t0, StartedAt: t0}
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}, NewTaskRuns: []*run.TaskRun{tr}, NewAttempts: []*run.Attempt{a}}))

	tr.Phase, tr.Outputs, tr.StartedAt = run.Running, map[string]any{"acc": 0.9, "n": int64(2)}, t0
	a.Phase, a.ExitCode, a.FinishedAt = run.Succeeded, &code, t0.Add(time.Second)
	must(t, s.Apply(ctx, &run.Changes{TaskRuns: []*run.TaskRun{tr}, Attempts: []*run.Attempt{a}}))

	snap, err := s.Snapshot(ctx, r.ID)
	must(t, err)
	if !reflect.DeepEqual(snap.Run.Parameters, r.Parameters) {
		t.Errorf("parameters = %#v, want %#v", snap.Run.Parameters, r.Parameters)
	}
	if snap.Run.Options != r.Options || !snap.Run.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("run = %+v", snap.Run)
	}
	if len(snap.TaskRuns) != 1 || !reflect.DeepEqual(snap.TaskRuns[0].Outputs, tr.Outputs) || snap.TaskRuns[0].Phase != run.Running {
		t.Fatalf("task runs = %+v", snap.TaskRuns)
	}
	if _, ok := snap.TaskRuns[0].Outputs["n"].(int64); !ok {
		t.Errorf("integer output came back as %T", snap.TaskRuns[0].Outputs["n"])
	}
	if len(snap.Attempts) != 1 || snap.Attempts[0].ExitCode == nil || *snap.Attempts[0].ExitCode != 0 || snap.Attempts[0].Phase != run.Succeeded {
		t.Fatalf("attempts = %+v", snap.Attempts)
	}
	runs, err := s.ListRuns(ctx, 10)
	must(t, err)
	if len(runs) != 1 || runs[0].ID != r.ID {
		t.Errorf("ListRuns = %+v", runs)
	}
}

func transitions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("run-t")
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}))
	r.Phase = run.Running
	must(t, s.Apply(ctx, &run.Changes{Runs: []*run.Run{r}}))
	r.Phase = run.Pending
	err := s.Apply(ctx, &run.Changes{Runs: []*run.Run{r}})
	var te *run.TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("running -> pending: err = %v, want TransitionError", err)
	}
	r.Phase = run.Failed
	must(t, s.Apply(ctx, &run.Changes{Runs: []*run.Run{r}}))
	r.Phase = run.Running
	if err := s.Apply(ctx, &run.Changes{Runs: []*run.Run{r}}); !errors.As(err, &te) {
		t.Fatalf("failed -> running: err = %v, want TransitionError", err)
	}
	got, err := s.GetRun(ctx, r.ID)
	must(t, err)
	if got.Phase != run.Failed {
		t.Errorf("phase = %s, want failed (terminal phases never change)", got.Phase)
	}
	if _, err := s.GetRun(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun(nope) = %v, want ErrNotFound", err)
	}
}

func atomicBatch(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("run-a")
	tr := newTask(r.ID, "tr-a", "a")
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}, NewTaskRuns: []*run.TaskRun{tr}}))
	// A batch with one illegal update must leave nothing behind.
	tr.Phase = run.Skipped
	must(t, s.Apply(ctx, &run.Changes{TaskRuns: []*run.TaskRun{tr}}))
	tr2 := newTask(r.ID, "tr-b", "b")
	bad := *tr
	bad.Phase = run.Running // skipped is terminal
	err := s.Apply(ctx, &run.Changes{NewTaskRuns: []*run.TaskRun{tr2}, TaskRuns: []*run.TaskRun{&bad}})
	if err == nil {
		t.Fatal("illegal batch applied")
	}
	snap, err := s.Snapshot(ctx, r.ID)
	must(t, err)
	if len(snap.TaskRuns) != 1 {
		t.Errorf("task runs after rolled-back batch = %d, want 1", len(snap.TaskRuns))
	}
}

// manyRows: a batch of many new task runs and attempts (written several
// rows per statement) stores every one of them, and one bad row anywhere
// rolls back the whole batch.
func manyRows(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("run-m")
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}))
	const n = 75 // two full chunks and some
	ch := &run.Changes{}
	for i := 0; i < n; i++ {
		tr := newTask(r.ID, fmt.Sprintf("tr-m-%03d", i), fmt.Sprintf("loop/%d", i))
		tr.Inputs = map[string]any{"i": int64(i)}
		ch.NewTaskRuns = append(ch.NewTaskRuns, tr)
		code := i
		ch.NewAttempts = append(ch.NewAttempts, &run.Attempt{ID: fmt.Sprintf("at-m-%03d", i), TaskRunID: tr.ID, Number: 1,
			Phase: run.Failed, ExitCode: &code, LogPath: fmt.Sprintf("/l/%d", i), CreatedAt: t0, StartedAt: t0, FinishedAt: t0})
	}
	must(t, s.Apply(ctx, ch))
	snap, err := s.Snapshot(ctx, r.ID)
	must(t, err)
	if len(snap.TaskRuns) != n || len(snap.Attempts) != n {
		t.Fatalf("stored %d task runs and %d attempts, want %d of each", len(snap.TaskRuns), len(snap.Attempts), n)
	}
	byID := map[string]*run.TaskRun{}
	for _, tr := range snap.TaskRuns {
		byID[tr.ID] = tr
	}
	for i := 0; i < n; i++ {
		tr := byID[fmt.Sprintf("tr-m-%03d", i)]
		if tr == nil || tr.Path != fmt.Sprintf("loop/%d", i) || tr.Inputs["i"] != int64(i) {
			t.Fatalf("task run %d = %+v", i, tr)
		}
	}
	for _, a := range snap.Attempts {
		var i int
		if _, err := fmt.Sscanf(a.ID, "at-m-%03d", &i); err != nil || a.ExitCode == nil || *a.ExitCode != i || a.LogPath != fmt.Sprintf("/l/%d", i) {
			t.Fatalf("attempt %+v", a)
		}
	}

	// A duplicate path in the middle of a chunk fails the batch.
	bad := &run.Changes{}
	for i := 0; i < 40; i++ {
		path := fmt.Sprintf("again/%d", i)
		if i == 20 {
			path = "loop/3"
		}
		bad.NewTaskRuns = append(bad.NewTaskRuns, newTask(r.ID, fmt.Sprintf("tr-x-%03d", i), path))
	}
	if err := s.Apply(ctx, bad); err == nil {
		t.Fatal("a batch with a duplicate task path applied")
	}
	if snap, err = s.Snapshot(ctx, r.ID); err != nil || len(snap.TaskRuns) != n {
		t.Fatalf("after the failed batch: %d task runs (err %v), want %d", len(snap.TaskRuns), err, n)
	}
}

// journalMark: a batch records how far the run's journal is applied, in
// the same transaction as its changes.
func journalMark(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("run-j")
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}))
	got, err := s.GetRun(ctx, r.ID)
	must(t, err)
	if got.JournalSeq != 0 {
		t.Fatalf("new run: journal seq = %d, want 0", got.JournalSeq)
	}
	tr := newTask(r.ID, "tr-j", "j")
	must(t, s.Apply(ctx, &run.Changes{NewTaskRuns: []*run.TaskRun{tr}, Journal: &run.JournalMark{RunID: r.ID, Seq: 41}}))
	// A mark alone is a change of its own.
	must(t, s.Apply(ctx, &run.Changes{Journal: &run.JournalMark{RunID: r.ID, Seq: 42}}))
	snap, err := s.Snapshot(ctx, r.ID)
	must(t, err)
	if snap.Run.JournalSeq != 42 || len(snap.TaskRuns) != 1 {
		t.Fatalf("journal seq = %d with %d task runs, want 42 with 1", snap.Run.JournalSeq, len(snap.TaskRuns))
	}
	// A failing batch does not move the mark.
	bad := *tr
	bad.ID = "missing"
	bad.Phase = run.Running
	if err := s.Apply(ctx, &run.Changes{TaskRuns: []*run.TaskRun{&bad}, Journal: &run.JournalMark{RunID: r.ID, Seq: 43}}); err == nil {
		t.Fatal("update of a missing task run applied")
	}
	if got, err := s.GetRun(ctx, r.ID); err != nil || got.JournalSeq != 42 {
		t.Fatalf("after a rolled-back batch: journal seq = %v (err %v), want 42", got.JournalSeq, err)
	}
	// Updating the run itself leaves the mark alone.
	r.Phase = run.Running
	must(t, s.Apply(ctx, &run.Changes{Runs: []*run.Run{r}}))
	if got, err := s.GetRun(ctx, r.ID); err != nil || got.JournalSeq != 42 {
		t.Fatalf("after a run update: journal seq = %v (err %v), want 42", got.JournalSeq, err)
	}
	if err := s.Apply(ctx, &run.Changes{Journal: &run.JournalMark{RunID: "nope", Seq: 1}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mark of a missing run: err = %v, want ErrNotFound", err)
	}
}

func prefixLookup(t *testing.T, s *store.Store) {
	ctx := context.Background()
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{newRun("abc-1"), newRun("abd-2")}}))
	got, err := s.GetRun(ctx, "abc")
	must(t, err)
	if got.ID != "abc-1" {
		t.Errorf("GetRun(abc) = %s", got.ID)
	}
	if _, err := s.GetRun(ctx, "ab"); err == nil {
		t.Error("ambiguous prefix accepted")
	}
	if _, err := s.GetRun(ctx, "a%"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LIKE wildcard not escaped: %v", err)
	}
}

func lineage(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("run-l")
	p, c := newTask(r.ID, "tr-p", "p"), newTask(r.ID, "tr-c", "c")
	art := &run.Artifact{ID: "art-1", RunID: r.ID, URI: "/x/data", SchemaTitle: "system.Dataset", Metadata: map[string]any{"rows": int64(150)}, Digest: "sha256:ab", Size: 10, CreatedAt: t0}
	must(t, s.Apply(ctx, &run.Changes{
		NewRuns: []*run.Run{r}, NewTaskRuns: []*run.TaskRun{p, c}, NewArtifacts: []*run.Artifact{art},
		Events: []*run.ArtifactEvent{
			{ArtifactID: art.ID, TaskRunID: p.ID, AttemptID: "at-p", Kind: run.EventOutput, Name: "out", CreatedAt: t0},
			{ArtifactID: art.ID, TaskRunID: c.ID, Kind: run.EventInput, Name: "data", CreatedAt: t0.Add(time.Second)},
		},
	}))
	ev, err := s.Lineage(ctx, art.ID)
	must(t, err)
	if len(ev) != 2 || ev[0].Kind != run.EventOutput || ev[0].TaskRunID != p.ID || ev[1].Kind != run.EventInput || ev[1].TaskRunID != c.ID {
		t.Errorf("lineage = %+v", ev)
	}
	snap, err := s.Snapshot(ctx, r.ID)
	must(t, err)
	if len(snap.Artifacts) != 1 || snap.Artifacts[0].Metadata["rows"] != int64(150) || snap.Artifacts[0].Digest != "sha256:ab" {
		t.Errorf("artifacts = %+v", snap.Artifacts)
	}
	if len(snap.Events) != 2 {
		t.Errorf("events = %d, want 2", len(snap.Events))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// SampleRuns returns pending runs with the given ids, for backend-specific
// tests.
func SampleRuns(ids ...string) []*run.Run {
	out := make([]*run.Run, len(ids))
	for i, id := range ids {
		out[i] = newRun(id)
	}
	return out
}
