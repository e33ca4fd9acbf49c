//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFailingSteps: a Python step that raises and a container step that
// exits 3 fail the run (exit 1); their downstream tasks never start; an
// independent chain still completes.
func TestFailingSteps(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "failing"))
	if r.code != 1 {
		t.Errorf("exit code = %d, want 1\n%s", r.code, s.describe())
	}
	if s.State != "failed" {
		t.Errorf("run state = %q, want failed", s.State)
	}
	if s.Error == "" {
		t.Errorf("a failed run must carry an error")
	}

	py := s.task(t, "py-boom")
	if py.State != "failed" || py.Attempts != 1 || py.ExitCode == 0 || py.Error == "" {
		t.Errorf("py-boom: state=%s attempts=%d exit_code=%d error=%q; want failed, 1 attempt, a non-zero exit code and an error",
			py.State, py.Attempts, py.ExitCode, py.Error)
	}
	pyLog := weir(t, home, "logs", s.RunID, "py-boom")
	if pyLog.code != 0 || !strings.Contains(pyLog.stdout, "ValueError: weir-e2e-python-failure x=5") ||
		!strings.Contains(pyLog.stdout, "py-boom is about to fail") {
		t.Errorf("weir logs of py-boom lack the printed line and the exception\n%s", pyLog)
	}

	sh := s.task(t, "sh-boom")
	if sh.State != "failed" || sh.Attempts != 1 || sh.ExitCode != 3 || sh.Error == "" {
		t.Errorf("sh-boom: state=%s attempts=%d exit_code=%d error=%q; want failed, 1 attempt, exit code 3 and an error",
			sh.State, sh.Attempts, sh.ExitCode, sh.Error)
	}
	shLog := weir(t, home, "logs", s.RunID, "sh-boom")
	if shLog.code != 0 || !strings.Contains(shLog.stdout, "boom") || !strings.Contains(shLog.stdout, "sh-boom-stdout") {
		t.Errorf("weir logs of sh-boom lack its stdout and stderr\n%s", shLog)
	}
	if sh.Log == "" {
		t.Errorf("sh-boom has no log path")
	} else if got := readFile(t, sh.Log); !strings.Contains(got, "boom") {
		t.Errorf("sh-boom log file %s = %q, want it to contain the stderr line", sh.Log, got)
	}

	for _, name := range []string{"after-py", "after-sh"} {
		tk := s.task(t, name)
		switch tk.State {
		case "pending", "skipped", "canceled":
		default:
			t.Errorf("%s: state = %q, want a state of a task that never ran (pending, skipped or canceled)", name, tk.State)
		}
		if tk.Attempts != 0 {
			t.Errorf("%s: attempts = %d, want 0: a task downstream of a failure must not start", name, tk.Attempts)
		}
		if len(tk.Outputs.Parameters) != 0 || len(tk.Outputs.Artifacts) != 0 {
			t.Errorf("%s: has outputs %v %v although it never ran", name, tk.Outputs.Parameters, tk.Outputs.Artifacts)
		}
	}

	for name, out := range map[string]string{"independent": `"one-1"`, "independent-2": `"one-1-2"`} {
		tk := s.task(t, name)
		if tk.State != "succeeded" || tk.ExitCode != 0 || tk.Attempts != 1 {
			t.Errorf("%s: state=%s attempts=%d exit_code=%d, want succeeded: independent tasks keep running",
				name, tk.State, tk.Attempts, tk.ExitCode)
		}
		wantOut(t, tk, "out", out)
	}
	wantIn(t, s.task(t, "independent-2"), "tag", `"one-1"`)
	if t.Failed() {
		t.Logf("%s", s.describe())
	}
}

// TestInvalidInput: every kind of invalid input exits 2 before running
// anything, and stderr names what is wrong.
func TestInvalidInput(t *testing.T) {
	t.Parallel()
	hello := pipelineFile(t, "hello")
	params := pipelineFile(t, "params")
	diamond := pipelineFile(t, "diamond")
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.yaml")
	if err := os.WriteFile(garbage, []byte("pipelineInfo: [unclosed\n  root: {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := func(name string) *regexp.Regexp {
		return regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(name) + `([^A-Za-z0-9_]|$)`)
	}
	cases := []struct {
		name     string
		file     string
		args     []string
		contains []string
		mentions *regexp.Regexp
	}{
		{name: "unknown parameter", file: hello, args: []string{"-p", "nope=1"}, contains: []string{"nope"}},
		{name: "int given text", file: hello, args: []string{"-p", "n=abc"}, mentions: names("n")},
		{name: "int given a fraction", file: hello, args: []string{"-p", "n=1.5"}, mentions: names("n")},
		{name: "parameter without value", file: hello, args: []string{"-p", "n"}},
		{name: "bool given text", file: params, args: []string{"-p", "b=maybe"}, mentions: names("b")},
		{name: "float given text", file: params, args: []string{"-p", "f=abc"}, mentions: names("f")},
		{name: "list given broken JSON", file: params, args: []string{"-p", "l=[1,"}, mentions: names("l")},
		{name: "list given an object", file: params, args: []string{"-p", `l={"a":1}`}, mentions: names("l")},
		{name: "struct given a list", file: params, args: []string{"-p", "d=[1]"}, mentions: names("d")},
		{name: "missing file", file: filepath.Join(dir, "no-such-pipeline.yaml"), contains: []string{"no-such-pipeline.yaml"}},
		{name: "not YAML", file: garbage, contains: []string{"garbage.yaml"}},
		{
			name: "unknown component",
			file: editedCopy(t, diamond, "bad-componentref.yaml", [2]string{
				"componentRef:\n          name: comp-join\n",
				"componentRef:\n          name: comp-nope\n",
			}),
			contains: []string{"bad-componentref.yaml", "root.dag.tasks.join.componentRef"},
		},
		{
			name: "unknown producer task",
			file: editedCopy(t, diamond, "ghost-producer.yaml", [2]string{
				"producerTask: branch-2\n",
				"producerTask: ghost\n",
			}),
			contains: []string{"ghost-producer.yaml", "root.dag.tasks.join", "ghost"},
		},
		{
			name: "cycle",
			file: editedCopy(t, diamond, "cycle.yaml", [2]string{
				"componentRef:\n          name: comp-source\n",
				"componentRef:\n          name: comp-source\n        dependentTasks:\n        - join\n",
			}),
			contains: []string{"cycle.yaml", "cycle"},
		},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			r := weir(t, home, append([]string{"run", c.file}, c.args...)...)
			if r.code != 2 {
				t.Fatalf("exit code = %d, want 2 (invalid input)\n%s", r.code, r)
			}
			low := strings.ToLower(r.stderr)
			for _, want := range c.contains {
				if !strings.Contains(low, strings.ToLower(want)) {
					t.Errorf("stderr does not mention %q\n%s", want, r)
				}
			}
			if c.mentions != nil && !c.mentions.MatchString(r.stderr) {
				t.Errorf("stderr does not name the parameter (%s)\n%s", c.mentions, r)
			}
		})
	}
}
