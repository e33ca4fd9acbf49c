package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
)

// TestLoopOf10000Items checks that a ParallelFor over 10,000 items runs
// every iteration once and collects every output, in order.
func TestLoopOf10000Items(t *testing.T) {
	if testing.Short() {
		t.Skip("large loop")
	}
	n := loopSize
	h := newHarness(t, 8)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	items := make([]int, n)
	for i := range items {
		items[i] = i
	}
	r := h.submit([]byte(semanticsSpec), map[string]any{"items": jsonList(items), "flag": "no"})
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.Phase != run.Succeeded {
		t.Fatalf("run %s: %s", final.Phase, final.Error)
	}
	_, tasks := h.snapshot(r.ID)
	got, _ := tasks["body/loop"].Outputs["pipelinechannel--emit-out"].([]any)
	if len(got) != n || got[0] != "body/loop/0/emit" || got[n-1] != fmt.Sprintf("body/loop/%d/emit", n-1) {
		t.Fatalf("collected %d values, first %v", len(got), got[:1])
	}
	if len(h.exec.started) != n+2 {
		t.Errorf("%d attempts started, want %d (one per item, plus gather and the exit task)", len(h.exec.started), n+2)
	}
}

func jsonList(xs []int) string {
	b, _ := json.Marshal(xs)
	return string(b)
}

var loopSize = flagLoopSize()

func flagLoopSize() int {
	if s := os.Getenv("WEIR_TEST_LOOP_SIZE"); s != "" {
		if n, err := strconv.Atoi(s); err == nil {
			return n
		}
	}
	return 10000
}
