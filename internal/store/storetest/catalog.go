package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

func newPipeline(id, name string, at time.Time) (*run.Pipeline, *run.PipelineVersion) {
	p := &run.Pipeline{ID: id, Name: name, DisplayName: name + " (display)", Description: "d", CreatedAt: at}
	v := &run.PipelineVersion{ID: id + "-v1", PipelineID: id, Name: "v1", DisplayName: "v1", Spec: []byte("spec " + name), CreatedAt: at}
	return p, v
}

func pipelines(t *testing.T, s *store.Store) {
	ctx := context.Background()
	p, v := newPipeline("pl-1", "train", t0)
	must(t, s.CreatePipeline(ctx, p, v))

	got, err := s.GetPipeline(ctx, p.ID)
	must(t, err)
	if *got != *p {
		t.Errorf("GetPipeline = %+v, want %+v", got, p)
	}
	byName, err := s.GetPipelineByName(ctx, "train")
	must(t, err)
	if byName.ID != p.ID {
		t.Errorf("GetPipelineByName = %s", byName.ID)
	}
	gv, err := s.GetPipelineVersion(ctx, v.ID)
	must(t, err)
	if string(gv.Spec) != "spec train" || gv.PipelineID != p.ID || !gv.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("GetPipelineVersion = %+v", gv)
	}

	// Names are unique; a failed create leaves nothing behind.
	dup, dupV := newPipeline("pl-2", "train", t0)
	if err := s.CreatePipeline(ctx, dup, dupV); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate pipeline name: err = %v, want ErrConflict", err)
	}
	if _, err := s.GetPipelineVersion(ctx, dupV.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("version of a rejected pipeline: err = %v, want ErrNotFound", err)
	}

	v2 := &run.PipelineVersion{ID: "pl-1-v2", PipelineID: p.ID, Name: "v2", DisplayName: "v2", Spec: []byte("spec 2"), CreatedAt: t0.Add(time.Second)}
	must(t, s.CreatePipelineVersion(ctx, v2))
	if err := s.CreatePipelineVersion(ctx, &run.PipelineVersion{ID: "pl-1-v3", PipelineID: p.ID, Name: "v2", Spec: []byte("x"), CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate version name: err = %v, want ErrConflict", err)
	}
	if err := s.CreatePipelineVersion(ctx, &run.PipelineVersion{ID: "orphan", PipelineID: "nope", Name: "v1", Spec: []byte("x"), CreatedAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("version of a missing pipeline: err = %v, want ErrNotFound", err)
	}
	latest, err := s.LatestPipelineVersion(ctx, p.ID)
	must(t, err)
	if latest.ID != v2.ID {
		t.Errorf("LatestPipelineVersion = %s, want %s", latest.ID, v2.ID)
	}
	vs, page, err := s.ListPipelineVersions(ctx, p.ID, store.ListOptions{SortBy: "name"})
	must(t, err)
	if ids := versionIDs(vs); ids != "pl-1-v1 pl-1-v2" || page.Total != 2 {
		t.Errorf("ListPipelineVersions = %s (total %d)", ids, page.Total)
	}

	p3, v3 := newPipeline("pl-3", "eval", t0.Add(time.Minute))
	must(t, s.CreatePipeline(ctx, p3, v3))
	ps, page, err := s.ListPipelines(ctx, store.ListOptions{})
	must(t, err)
	if len(ps) != 2 || ps[0].ID != "pl-3" || page.Total != 2 {
		t.Errorf("ListPipelines (newest first) = %v", ps)
	}
	ps, _, err = s.ListPipelines(ctx, store.ListOptions{Predicates: []store.Predicate{{Field: "name", Op: store.OpEq, Values: []any{"train"}}}})
	must(t, err)
	if len(ps) != 1 || ps[0].ID != p.ID {
		t.Errorf("ListPipelines(name = train) = %v", ps)
	}

	// A pipeline with versions goes only with cascade.
	if err := s.DeletePipeline(ctx, p.ID, false); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeletePipeline without cascade: err = %v, want ErrConflict", err)
	}
	if _, err := s.GetPipeline(ctx, p.ID); err != nil {
		t.Errorf("refused delete removed the pipeline: %v", err)
	}
	must(t, s.DeletePipeline(ctx, p.ID, true))
	if _, err := s.GetPipeline(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPipeline after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetPipelineVersion(ctx, v2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("version after cascade delete: err = %v, want ErrNotFound", err)
	}
	must(t, s.DeletePipelineVersion(ctx, v3.ID))
	if err := s.DeletePipelineVersion(ctx, v3.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePipelineVersion twice: err = %v, want ErrNotFound", err)
	}
	must(t, s.DeletePipeline(ctx, p3.ID, false)) // no versions left
	if err := s.DeletePipeline(ctx, "nope", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeletePipeline(nope): err = %v, want ErrNotFound", err)
	}
}

func versionIDs(vs []*run.PipelineVersion) string {
	out := ""
	for i, v := range vs {
		if i > 0 {
			out += " "
		}
		out += v.ID
	}
	return out
}

func experiments(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := &run.Experiment{ID: "ex-a", DisplayName: "Default", Namespace: "ns1", CreatedAt: t0}
	b := &run.Experiment{ID: "ex-b", DisplayName: "tuning", Namespace: "ns1", CreatedAt: t0.Add(time.Second)}
	c := &run.Experiment{ID: "ex-c", DisplayName: "Default", Namespace: "ns2", CreatedAt: t0.Add(2 * time.Second)}
	for _, e := range []*run.Experiment{a, b, c} {
		must(t, s.CreateExperiment(ctx, e))
	}
	if a.StorageState != run.StorageAvailable {
		t.Errorf("new experiment storage state = %q", a.StorageState)
	}
	if err := s.CreateExperiment(ctx, &run.Experiment{ID: "ex-d", DisplayName: "Default", Namespace: "ns1", CreatedAt: t0}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate experiment name in a namespace: err = %v, want ErrConflict", err)
	}
	got, err := s.GetExperiment(ctx, b.ID)
	must(t, err)
	if *got != *b {
		t.Errorf("GetExperiment = %+v, want %+v", got, b)
	}
	if _, err := s.GetExperiment(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetExperiment(nope): err = %v, want ErrNotFound", err)
	}

	list := func(opts store.ListOptions) string {
		t.Helper()
		es, _, err := s.ListExperiments(ctx, opts)
		must(t, err)
		out := ""
		for _, e := range es {
			out += e.ID + " "
		}
		return out
	}
	if got := list(store.ListOptions{}); got != "ex-c ex-b ex-a " {
		t.Errorf("ListExperiments (newest first) = %q", got)
	}
	if got := list(store.ListOptions{Predicates: []store.Predicate{{Field: "namespace", Op: store.OpEq, Values: []any{"ns1"}}}, SortBy: "name"}); got != "ex-a ex-b " {
		t.Errorf("ListExperiments(namespace = ns1) = %q", got)
	}

	// Archiving an experiment archives its runs, not the others.
	r1, r2 := newRun("ex-run-1"), newRun("ex-run-2")
	r1.ExperimentID = a.ID
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r1, r2}}))
	must(t, s.TouchExperiment(ctx, a.ID, r1))
	must(t, s.SetExperimentStorage(ctx, a.ID, run.StorageArchived))
	if got := list(store.ListOptions{Predicates: []store.Predicate{{Field: "storage_state", Op: store.OpEq, Values: []any{run.StorageArchived}}}}); got != "ex-a " {
		t.Errorf("archived experiments = %q", got)
	}
	ga, err := s.GetExperiment(ctx, a.ID)
	must(t, err)
	if !ga.LastRunCreatedAt.Equal(r1.CreatedAt.Truncate(time.Microsecond)) {
		t.Errorf("LastRunCreatedAt = %v, want %v", ga.LastRunCreatedAt, r1.CreatedAt)
	}
	for id, want := range map[string]string{r1.ID: run.StorageArchived, r2.ID: run.StorageAvailable} {
		r, err := s.GetRun(ctx, id)
		must(t, err)
		if r.StorageState != want {
			t.Errorf("run %s storage state = %s, want %s", id, r.StorageState, want)
		}
	}
	must(t, s.SetExperimentStorage(ctx, a.ID, run.StorageAvailable))
	if err := s.SetExperimentStorage(ctx, "nope", run.StorageArchived); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetExperimentStorage(nope): err = %v, want ErrNotFound", err)
	}

	// An experiment with runs is not deleted.
	if err := s.DeleteExperiment(ctx, a.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("DeleteExperiment with runs: err = %v, want ErrConflict", err)
	}
	must(t, s.DeleteExperiment(ctx, b.ID))
	if err := s.DeleteExperiment(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteExperiment twice: err = %v, want ErrNotFound", err)
	}
}
