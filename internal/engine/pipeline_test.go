package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
)

// TestUsePipelineIsDriven checks that a run is driven with the pipeline
// handed over by UsePipeline, not with its stored spec decoded again: the
// handed-over pipeline runs another command, and that is the command the
// executor is asked to start.
func TestUsePipelineIsDriven(t *testing.T) {
	h := newHarness(t, 1)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	ctx := context.Background()
	r, p, _, err := Prepare(Submission{Spec: chainSpec([][]int{nil}), SpecFile: "gen.yaml",
		PipelineRoot: filepath.Join(h.home, "artifacts")})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}); err != nil {
		t.Fatal(err)
	}
	p.DeploymentSpec.Executors["exec-t0"].Container.Command = []string{"handed-over"}
	h.eng.UsePipeline(r.ID, p)
	final, err := h.eng.Execute(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Succeeded {
		t.Fatalf("run %s: %s", final.Phase, final.Error)
	}
	h.exec.mu.Lock()
	defer h.exec.mu.Unlock()
	if len(h.exec.started) != 1 {
		t.Fatalf("started %d attempts, want 1", len(h.exec.started))
	}
	if got := h.exec.specs[h.exec.started[0]].Command; len(got) == 0 || got[0] != "handed-over" {
		t.Fatalf("started %q, want the handed-over pipeline's command", got)
	}
}

// TestUsePipelineOnce checks that a handed-over pipeline serves one drive
// only (a later drive decodes the stored spec), and that the engine keeps
// at most maxDecoded of them.
func TestUsePipelineOnce(t *testing.T) {
	h := newHarness(t, 1)
	r, p, _, err := Prepare(Submission{Spec: chainSpec([][]int{nil}), SpecFile: "gen.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	h.eng.UsePipeline(r.ID, p)
	if got, err := h.eng.pipeline(r); err != nil || got != p {
		t.Fatalf("first drive got %p (%v), want the handed-over %p", got, err, p)
	}
	again, err := h.eng.pipeline(r)
	if err != nil {
		t.Fatal(err)
	}
	if again == p || again.PipelineInfo.Name != p.PipelineInfo.Name {
		t.Fatalf("second drive got %p (%q), want a new decoding of the stored spec", again, again.PipelineInfo.Name)
	}
	for i := range maxDecoded + 10 {
		h.eng.UsePipeline(fmt.Sprintf("run-%d", i), p)
	}
	h.eng.mu.Lock()
	n := len(h.eng.decoded)
	h.eng.mu.Unlock()
	if n != maxDecoded {
		t.Fatalf("engine keeps %d pipelines, want at most %d", n, maxDecoded)
	}
}
