package engine

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
)

// TestRandomLoops is a property test over loops: for random item counts,
// loop limits, run parallelism and failures, every run ends; neither the
// loop's parallelismLimit nor the run's parallelism is ever exceeded; a
// loop with a failed iteration fails and its consumer never starts; a loop
// whose iterations all succeed collects every output in order.
func TestRandomLoops(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for iter := 0; iter < 30; iter++ {
		n, limit, par := rng.Intn(25), rng.Intn(4), 1+rng.Intn(4)
		failAt := -1
		if n > 0 && rng.Float64() < 0.3 {
			failAt = rng.Intn(n)
		}
		t.Run(fmt.Sprintf("n%d-limit%d-p%d-fail%d", n, limit, par, failAt), func(t *testing.T) {
			h := newHarness(t, par)
			var mu sync.Mutex
			running, maxRunning := 0, 0
			h.exec.auto = func(s executor.Spec) (int, bool) {
				if s.Command[0] != "emit-item" {
					return 0, true
				}
				mu.Lock()
				running++
				maxRunning = max(maxRunning, running)
				mu.Unlock()
				code := 0
				if s.Command[1] == fmt.Sprint(failAt) {
					code = 1
				}
				go func(id string) {
					time.Sleep(time.Duration(rand.Intn(3)) * time.Millisecond)
					mu.Lock()
					running--
					mu.Unlock()
					h.exec.finish(id, code)
				}(s.AttemptID)
				return 0, false
			}
			items := make([]int, n)
			for i := range items {
				items[i] = i
			}
			spec := strings.Replace(semanticsSpec, "iteratorPolicy: {parallelismLimit: 2}", fmt.Sprintf("iteratorPolicy: {parallelismLimit: %d}", limit), 1)
			spec = strings.Replace(spec, "retryPolicy: {maxRetryCount: 2, backoffDuration: 0s, backoffFactor: 2, backoffMaxDuration: 1s}", "retryPolicy: {maxRetryCount: 0}", 1)
			r := h.submit([]byte(spec), map[string]any{"items": jsonList(items)})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			final, err := h.eng.Execute(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if limit > 0 && maxRunning > limit {
				t.Errorf("loop limit %d exceeded: %d iterations at once", limit, maxRunning)
			}
			if maxRunning > par {
				t.Errorf("parallelism %d exceeded: %d at once", par, maxRunning)
			}
			_, tasks := h.snapshot(r.ID)
			if failAt >= 0 {
				if final.Phase != run.Failed || tasks["body/loop"].Phase != run.Failed {
					t.Errorf("run %s, loop %s; want both failed", final.Phase, tasks["body/loop"].Phase)
				}
				if g := tasks["body/gather"]; g.Phase != run.Skipped {
					t.Errorf("gather = %s, want skipped", g.Phase)
				}
				return
			}
			if final.Phase != run.Succeeded {
				t.Fatalf("run %s: %s", final.Phase, final.Error)
			}
			want := make([]any, n)
			for i := range want {
				want[i] = fmt.Sprintf("body/loop/%d/emit", i)
			}
			if got := tasks["body/gather"].Inputs["vals"]; !equalJSON(got, want) {
				t.Errorf("gather received %v, want %v", got, want)
			}
		})
	}
}
