package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// weir runs the command line in-process against its own WEIR_HOME.
func weir(t *testing.T, home string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv("WEIR_HOME", home)
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func decodeSummary(t *testing.T, s string) *runSummary {
	t.Helper()
	var sum runSummary
	if err := json.Unmarshal([]byte(s), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, s)
	}
	return &sum
}

func task(t *testing.T, s *runSummary, name string) taskSummary {
	t.Helper()
	for _, ts := range s.Tasks {
		if ts.Name == name {
			return ts
		}
	}
	t.Fatalf("no task %s in %+v", name, s.Tasks)
	return taskSummary{}
}

const pipeline = "testdata/cli.yaml"

func TestRunSucceeds(t *testing.T) {
	home := t.TempDir()
	code, out, errOut := weir(t, home, "run", pipeline, "-p", "msg=yo", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	sum := decodeSummary(t, out)
	if sum.State != "succeeded" || sum.Parameters["n"] != 2.0 || sum.Parameters["msg"] != "yo" {
		t.Errorf("summary = %+v", sum)
	}
	if got := task(t, sum, "say-2").Outputs.Parameters["out"]; got != "yo/2/2" {
		t.Errorf("say-2 out = %q, want yo/2/2", got)
	}

	// The run is stored: list, get and logs read it back.
	code, out, _ = weir(t, home, "runs", "list")
	if code != 0 || !strings.Contains(out, sum.RunID) || !strings.Contains(out, "succeeded") {
		t.Errorf("runs list: exit %d\n%s", code, out)
	}
	code, out, _ = weir(t, home, "runs", "get", sum.RunID[:13], "-o", "json")
	if code != 0 || decodeSummary(t, out).RunID != sum.RunID {
		t.Errorf("runs get by prefix: exit %d\n%s", code, out)
	}
	code, out, _ = weir(t, home, "logs", sum.RunID, "say")
	if code != 0 || strings.TrimSpace(out) != "said yo x2" {
		t.Errorf("logs: exit %d %q", code, out)
	}
}

func TestRunFailureExitsOne(t *testing.T) {
	home := t.TempDir()
	code, out, errOut := weir(t, home, "run", pipeline, "-p", "code=3")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"maybe-fail failed: exit", "failing with 3", "run ", " failed in "} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = weir(t, home, "runs", "list", "-o", "json")
	var runs []map[string]any
	if err := json.Unmarshal([]byte(out), &runs); err != nil || code != 0 || len(runs) != 1 {
		t.Fatalf("runs list: %v %s", err, out)
	}
	code, out, _ = weir(t, home, "runs", "get", runs[0]["run_id"].(string), "-o", "json")
	sum := decodeSummary(t, out)
	if f := task(t, sum, "maybe-fail"); f.State != "failed" || f.ExitCode == nil || *f.ExitCode != 3 {
		t.Errorf("maybe-fail = %+v", f)
	}
	if d := task(t, sum, "say-2"); d.State != "skipped" || d.Attempts != 0 {
		t.Errorf("downstream say-2 = %s with %d attempts, want skipped and never started", d.State, d.Attempts)
	}
	if s := task(t, sum, "say"); s.State != "succeeded" {
		t.Errorf("independent say = %s", s.State)
	}
}

func TestInvalidInputExitsTwo(t *testing.T) {
	home := t.TempDir()
	data, err := os.ReadFile(pipeline)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, bytes.Replace(data, []byte("name: comp-say-2"), []byte("name: comp-nope"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"run", "nope.yaml"}, []string{"nope.yaml", "no such file"}},
		{[]string{"run", pipeline, "-p", "n=abc"}, []string{"parameter n", `"abc" is not a valid integer`}},
		{[]string{"run", pipeline, "-p", "bogus=1"}, []string{"parameter bogus", "no such input"}},
		{[]string{"run", pipeline, "-p", "novalue"}, []string{"NAME=VALUE"}},
		{[]string{"run", broken}, []string{"broken.yaml: root.dag.tasks.say-2.componentRef.name", "comp-nope"}},
		{[]string{"run", pipeline, "-o", "xml"}, []string{"--output"}},
		{[]string{"run"}, []string{"takes 1 argument"}},
		{[]string{"run", pipeline, "--bogus-flag"}, []string{"bogus-flag"}},
		{[]string{"runs", "get", "no-such-run"}, []string{"no run no-such-run"}},
	}
	for _, c := range cases {
		code, _, errOut := weir(t, home, c.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q: %s", c.args, w, errOut)
			}
		}
	}
}

func TestRetryResumesLocalRun(t *testing.T) {
	home := t.TempDir()
	code, _, _ := weir(t, home, "run", pipeline, "-p", "code=3", "-o", "json")
	if code != 1 {
		t.Fatalf("first run exit %d", code)
	}
	_, out, _ := weir(t, home, "runs", "list", "-o", "json")
	var runs []map[string]any
	if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("runs list: %v %s", err, out)
	}
	id := runs[0]["run_id"].(string)
	// Still failing: the retry runs the failed task again and fails.
	if code, _, errOut := weir(t, home, "runs", "retry", id); code != 1 {
		t.Fatalf("retry exit %d: %s", code, errOut)
	}
	_, out, _ = weir(t, home, "runs", "get", id, "-o", "json")
	sum := decodeSummary(t, out)
	if f := task(t, sum, "maybe-fail"); f.Attempts != 2 {
		t.Errorf("maybe-fail attempts after a retry = %d, want 2", f.Attempts)
	}
	if s := task(t, sum, "say"); s.Attempts != 1 {
		t.Errorf("say ran again on retry: %d attempts", s.Attempts)
	}
	if code, _, errOut := weir(t, home, "runs", "retry", "no-such-run"); code != 2 {
		t.Errorf("retry of an unknown run: exit %d %s", code, errOut)
	}
}
