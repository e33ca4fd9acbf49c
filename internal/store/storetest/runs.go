package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

func ids(runs []*run.Run) string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return strings.Join(out, " ")
}

// listRuns covers every filter operation, sorting and paging. Display names
// mix cases: text sorts bytewise (upper case first) on every backend.
func listRuns(t *testing.T, s *store.Store) {
	ctx := context.Background()
	fixture := []struct {
		id, name, exp string
		phase         run.Phase
	}{
		{"lr-1", "alpha", "e1", run.Pending},
		{"lr-2", "Beta", "e1", run.Running},
		{"lr-3", "gamma", "e2", run.Succeeded},
		{"lr-4", "delta_x", "", run.Failed},
		{"lr-5", "Alpha 2", "e2", run.Succeeded},
	}
	var runs []*run.Run
	for i, f := range fixture {
		r := newRun(f.id)
		r.DisplayName, r.ExperimentID, r.Phase = f.name, f.exp, f.phase
		r.CreatedAt = t0.Add(time.Duration(i+1) * time.Second)
		runs = append(runs, r)
	}
	must(t, s.Apply(ctx, &run.Changes{NewRuns: runs}))

	pred := func(field string, op store.Op, vals ...any) store.Predicate {
		return store.Predicate{Field: field, Op: op, Values: vals}
	}
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	for _, c := range []struct {
		name  string
		preds []store.Predicate
		want  string // newest first, the default order
	}{
		{"none", nil, "lr-5 lr-4 lr-3 lr-2 lr-1"},
		{"=", []store.Predicate{pred("state", store.OpEq, "succeeded")}, "lr-5 lr-3"},
		{"!=", []store.Predicate{pred("state", store.OpNe, "succeeded")}, "lr-4 lr-2 lr-1"},
		{"<", []store.Predicate{pred("created_at", store.OpLt, at(3))}, "lr-2 lr-1"},
		{">", []store.Predicate{pred("created_at", store.OpGt, at(3))}, "lr-5 lr-4"},
		{"<=", []store.Predicate{pred("created_at", store.OpLe, at(3))}, "lr-3 lr-2 lr-1"},
		{">=", []store.Predicate{pred("created_at", store.OpGe, at(3))}, "lr-5 lr-4 lr-3"},
		{"IN", []store.Predicate{pred("state", store.OpIn, "pending", "failed")}, "lr-4 lr-1"},
		{"IN nothing", []store.Predicate{pred("state", store.OpIn)}, ""},
		{"CONTAINS ignores ASCII case", []store.Predicate{pred("display_name", store.OpContains, "ALPHA")}, "lr-5 lr-1"},
		{"CONTAINS escapes wildcards", []store.Predicate{pred("name", store.OpContains, "_")}, "lr-4"},
		{"AND", []store.Predicate{pred("experiment_id", store.OpEq, "e2"), pred("state", store.OpEq, "succeeded")}, "lr-5 lr-3"},
		{"id", []store.Predicate{pred("run_id", store.OpEq, "lr-2")}, "lr-2"},
	} {
		got, page, err := s.ListRunsPage(ctx, store.ListOptions{Predicates: c.preds})
		if err != nil {
			t.Errorf("filter %s: %v", c.name, err)
			continue
		}
		if ids(got) != c.want || page.Total != len(got) || page.Next != 0 {
			t.Errorf("filter %s = %q (total %d, next %d), want %q", c.name, ids(got), page.Total, page.Next, c.want)
		}
	}

	asc := "lr-5 lr-2 lr-1 lr-4 lr-3" // "Alpha 2" < "Beta" < "alpha" < "delta_x" < "gamma"
	got, _, err := s.ListRunsPage(ctx, store.ListOptions{SortBy: "display_name"})
	must(t, err)
	if ids(got) != asc {
		t.Errorf("sort by display_name = %q, want %q", ids(got), asc)
	}
	got, _, err = s.ListRunsPage(ctx, store.ListOptions{SortBy: "display_name", Desc: true})
	must(t, err)
	if want := "lr-3 lr-4 lr-1 lr-2 lr-5"; ids(got) != want {
		t.Errorf("sort by display_name desc = %q, want %q", ids(got), want)
	}

	// Pages follow Next until it is 0, and never overlap.
	var all []string
	opts := store.ListOptions{SortBy: "display_name", PageSize: 2}
	for i := 0; i < 5; i++ {
		got, page, err := s.ListRunsPage(ctx, opts)
		must(t, err)
		if page.Total != 5 || len(got) > 2 {
			t.Fatalf("page at %d: %d runs, total %d", opts.Offset, len(got), page.Total)
		}
		all = append(all, ids(got))
		if page.Next == 0 {
			break
		}
		if page.Next != opts.Offset+len(got) {
			t.Fatalf("page at %d: next = %d", opts.Offset, page.Next)
		}
		opts.Offset = page.Next
	}
	if got := strings.Join(all, " | "); got != "lr-5 lr-2 | lr-1 lr-4 | lr-3" {
		t.Errorf("pages = %q", got)
	}

	var fe *store.FieldError
	if _, _, err := s.ListRunsPage(ctx, store.ListOptions{Predicates: []store.Predicate{pred("bogus", store.OpEq, "x")}}); !errors.As(err, &fe) || fe.Field != "bogus" {
		t.Errorf("filter on an unknown field: err = %v, want *FieldError", err)
	}
	if _, _, err := s.ListRunsPage(ctx, store.ListOptions{SortBy: "bogus"}); !errors.As(err, &fe) || fe.Field != "bogus" {
		t.Errorf("sort on an unknown field: err = %v, want *FieldError", err)
	}
}

func runControl(t *testing.T, s *store.Store) {
	ctx := context.Background()
	pending, running, done := newRun("rc-pending"), newRun("rc-running"), newRun("rc-done")
	running.Phase, done.Phase = run.Running, run.Succeeded
	pending.CreatedAt, running.CreatedAt, done.CreatedAt = t0.Add(2*time.Second), t0.Add(time.Second), t0
	late := newRun("rc-a-late") // same time as pending: the id breaks the tie
	late.CreatedAt = pending.CreatedAt
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{pending, running, done, late}}))

	drive, err := s.RunsToDrive(ctx)
	must(t, err)
	if got := strings.Join(drive, " "); got != "rc-running rc-a-late rc-pending" {
		t.Errorf("RunsToDrive = %q, want oldest first, ended runs left out", got)
	}

	ok, err := s.RequestCancel(ctx, running.ID)
	must(t, err)
	if !ok {
		t.Error("RequestCancel(running) = false")
	}
	if r, err := s.GetRun(ctx, running.ID); err != nil || !r.CancelRequested {
		t.Errorf("CancelRequested not stored: %+v, %v", r, err)
	}
	if ok, err := s.RequestCancel(ctx, done.ID); err != nil || ok {
		t.Errorf("RequestCancel(ended) = %v, %v; want false, nil", ok, err)
	}
	if r, _ := s.GetRun(ctx, done.ID); r == nil || r.CancelRequested {
		t.Errorf("an ended run got a cancel request: %+v", r)
	}
	if _, err := s.RequestCancel(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RequestCancel(nope): err = %v, want ErrNotFound", err)
	}

	must(t, s.SetRunStorage(ctx, done.ID, run.StorageArchived))
	if r, err := s.GetRun(ctx, done.ID); err != nil || r.StorageState != run.StorageArchived {
		t.Errorf("SetRunStorage: %+v, %v", r, err)
	}
	if err := s.SetRunStorage(ctx, "nope", run.StorageArchived); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetRunStorage(nope): err = %v, want ErrNotFound", err)
	}

	if err := s.DeleteRun(ctx, running.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteRun(running): err = %v, want ErrConflict", err)
	}
	if _, err := s.GetRun(ctx, running.ID); err != nil {
		t.Errorf("refused delete removed the run: %v", err)
	}
	tr := newTask(done.ID, "rc-tr", "t")
	must(t, s.Apply(ctx, &run.Changes{NewTaskRuns: []*run.TaskRun{tr},
		NewAttempts: []*run.Attempt{{ID: "rc-at", TaskRunID: tr.ID, Number: 1, Phase: run.Pending, CreatedAt: t0}}}))
	must(t, s.DeleteRun(ctx, done.ID))
	if _, err := s.Snapshot(ctx, done.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Snapshot after DeleteRun: err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteRun(ctx, done.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteRun twice: err = %v, want ErrNotFound", err)
	}
}

// cache covers FindCached (the latest success with the key, its last
// succeeded attempt and its output artifacts) and ArtifactByURI.
func cache(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if hit, err := s.FindCached(ctx, "k"); err != nil || hit != nil {
		t.Fatalf("FindCached on an empty store = %+v, %v", hit, err)
	}
	r := newRun("cr")
	old, cur, failed := newTask(r.ID, "c-old", "old"), newTask(r.ID, "c-new", "new"), newTask(r.ID, "c-failed", "failed")
	for i, tr := range []*run.TaskRun{old, cur, failed} {
		tr.CacheKey, tr.Phase = "k", run.Succeeded
		tr.Outputs = map[string]any{"n": int64(i)}
		tr.FinishedAt = t0.Add(time.Duration(i+1) * time.Minute)
	}
	failed.Phase = run.Failed // finished last, but did not succeed
	code := 0
	attempts := []*run.Attempt{
		{ID: "c-new-1", TaskRunID: cur.ID, Number: 1, Phase: run.Failed, CreatedAt: t0},
		{ID: "c-new-2", TaskRunID: cur.ID, Number: 2, Phase: run.Succeeded, ExitCode: &code, CreatedAt: t0},
	}
	a1 := &run.Artifact{ID: "ca-1", RunID: r.ID, URI: "/art/model", SchemaTitle: "system.Model", CreatedAt: t0}
	a2 := &run.Artifact{ID: "ca-2", RunID: r.ID, URI: "/art/model", SchemaTitle: "system.Model", Digest: "sha256:2", Size: 1 << 40, CreatedAt: t0.Add(time.Second)}
	a3 := &run.Artifact{ID: "ca-3", RunID: r.ID, URI: "/art/metrics", SchemaTitle: "system.Metrics", CreatedAt: t0}
	must(t, s.Apply(ctx, &run.Changes{
		NewRuns: []*run.Run{r}, NewTaskRuns: []*run.TaskRun{old, cur, failed}, NewAttempts: attempts,
		NewArtifacts: []*run.Artifact{a1, a2, a3},
		Events: []*run.ArtifactEvent{
			{ArtifactID: a2.ID, TaskRunID: cur.ID, AttemptID: "c-new-2", Kind: run.EventOutput, Name: "model", CreatedAt: t0},
			{ArtifactID: a3.ID, TaskRunID: cur.ID, AttemptID: "c-new-2", Kind: run.EventOutput, Name: "metrics", CreatedAt: t0},
			{ArtifactID: a1.ID, TaskRunID: cur.ID, Kind: run.EventInput, Name: "base", CreatedAt: t0},
		},
	}))
	hit, err := s.FindCached(ctx, "k")
	must(t, err)
	if hit == nil || hit.TaskRun.ID != cur.ID || hit.TaskRun.RunID != r.ID || hit.AttemptID != "c-new-2" {
		t.Fatalf("FindCached = %+v, want task run %s, attempt c-new-2", hit, cur.ID)
	}
	if hit.TaskRun.Outputs["n"] != int64(1) {
		t.Errorf("cached outputs = %v", hit.TaskRun.Outputs)
	}
	if len(hit.Artifacts) != 2 || len(hit.Artifacts["model"]) != 1 || hit.Artifacts["model"][0].ID != a2.ID ||
		hit.Artifacts["model"][0].Size != 1<<40 || len(hit.Artifacts["metrics"]) != 1 {
		t.Errorf("cached artifacts = %+v, want the outputs model and metrics", hit.Artifacts)
	}
	if hit, err := s.FindCached(ctx, "other"); err != nil || hit != nil {
		t.Errorf("FindCached(other) = %+v, %v", hit, err)
	}

	got, err := s.ArtifactByURI(ctx, "/art/model")
	must(t, err)
	if got == nil || got.ID != a2.ID || got.Digest != "sha256:2" {
		t.Errorf("ArtifactByURI = %+v, want the latest, %s", got, a2.ID)
	}
	if got, err := s.ArtifactByURI(ctx, "/art/none"); err != nil || got != nil {
		t.Errorf("ArtifactByURI(none) = %+v, %v", got, err)
	}
}

// concurrentTransitions races writers moving one pending run to different
// ended phases: exactly one wins, the others see the phase it committed.
func concurrentTransitions(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for round := 0; round < 5; round++ {
		r := newRun("race-" + string(rune('a'+round)))
		must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}))
		targets := []run.Phase{run.Succeeded, run.Failed, run.Canceled, run.Skipped, run.Succeeded, run.Failed}
		var wg sync.WaitGroup
		errs := make([]error, len(targets))
		for i, to := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				x := *r
				x.Phase = to
				errs[i] = s.Apply(ctx, &run.Changes{Runs: []*run.Run{&x}})
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			var te *run.TransitionError
			switch {
			case err == nil:
				wins++
			case !errors.As(err, &te):
				t.Errorf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d writers moved the run out of pending, want 1", round, wins)
		}
	}
}

// oddText stores text that is not valid UTF-8 and holds a NUL byte. SQLite
// keeps it as it is; Postgres text cannot hold those bytes and gets U+FFFD
// in place of each run of them. Either way the write goes through.
func oddText(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r := newRun("odd")
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}))
	r.Phase, r.Error = run.Failed, "exit 1: \xff\xfe stderr\x00tail"
	must(t, s.Apply(ctx, &run.Changes{Runs: []*run.Run{r}}))
	got, err := s.GetRun(ctx, r.ID)
	must(t, err)
	if replaced := "exit 1: \uFFFD stderr\uFFFDtail"; got.Error != r.Error && got.Error != replaced {
		t.Errorf("error = %q", got.Error)
	}
}
