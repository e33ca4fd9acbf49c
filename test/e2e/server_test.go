//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/test/harness"
)

func freePort(t *testing.T) string {
	t.Helper()
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// startServer runs weir server on addr, waits until it answers, and stops
// it when the test ends.
func startServer(t *testing.T, home, addr string, extra ...string) *harness.Server {
	t.Helper()
	s, err := harness.StartServer(weirBin, home, pyenvRoot, addr, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// TestServerWithKFPClient drives weir server with the real kfp.Client.
func TestServerWithKFPClient(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	const token = "s3cret-token"
	s := startServer(t, home, freePort(t), "--auth-token", token)
	flagDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kfpPython, filepath.Join(repoRoot, "test", "e2e", "client", "kfp_client.py"),
		s.URL, token, compiled["hello"], compiled["server_slow"], compiled["server_flaky"], flagDir)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("kfp client script: %v\n%s\nserver log:\n%s", err, stderr, readFile(t, filepath.Join(home, "server.log")))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("script output: %v\n%s", err, out)
	}
	want := map[string]any{
		"first_state":       "SUCCEEDED",
		"version_run_state": "SUCCEEDED",
		"terminated_state":  "CANCELED",
		"flaky_first":       "FAILED",
		"flaky_retried":     "SUCCEEDED",
		"recurring_status":  "DISABLED",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if w, _ := got["wrong_token"].(string); !strings.HasPrefix(w, "refused") {
		t.Errorf("a client with a wrong token was not refused: %v", got["wrong_token"])
	}
	if got["pipeline_id"] == "" || got["pipeline_id"] != got["pipeline_id_by_name"] {
		t.Errorf("pipeline id %v, by name %v", got["pipeline_id"], got["pipeline_id_by_name"])
	}
	if got["experiment_id"] != got["experiment_again"] {
		t.Errorf("create_experiment of an existing name made a new one: %v vs %v", got["experiment_id"], got["experiment_again"])
	}
	if f, _ := got["filtered"].([]any); len(f) != 1 {
		t.Errorf("list_runs with a display_name filter = %v", got["filtered"])
	}
	if n, _ := got["recurring_fired"].(float64); n < 2 {
		t.Errorf("recurring run fired %v times, want >= 2", got["recurring_fired"])
	}
	if p, _ := got["first_params"].(map[string]any); p["who"] != "kfp-client" {
		t.Errorf("runtime parameters = %v", got["first_params"])
	}
	if tasks := fmt.Sprint(got["first_tasks"]); !strings.Contains(tasks, "SUCCEEDED") {
		t.Errorf("task details = %v", tasks)
	}
	// The flaky pipeline's first task ran once: the retry reused it.
	counts, _ := filepath.Glob(filepath.Join(home, "runs", "*", "first.*", "output-out.count"))
	if len(counts) != 1 || countLines(t, counts[0]) != 1 {
		t.Errorf("the retry ran the succeeded task again: %v", counts)
	}
	logs := readFile(t, filepath.Join(home, "server.log"))
	if strings.Contains(logs, "panic") {
		t.Errorf("server log has a panic:\n%s", logs)
	}
}
