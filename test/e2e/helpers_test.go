//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// commandTimeout bounds one weir invocation; the first run that installs
// scikit-learn is the slowest.
const commandTimeout = 10 * time.Minute

// Summary is the run summary printed by `weir run -o json` and
// `weir runs get RUN -o json` (docs/cli.md). Parameter values and metadata
// are decoded with json.Number so that 3 and 3.0 stay distinguishable.
type Summary struct {
	RunID      string         `json:"run_id"`
	Pipeline   string         `json:"pipeline"`
	State      string         `json:"state"`
	Error      string         `json:"error"`
	CreatedAt  string         `json:"created_at"`
	FinishedAt string         `json:"finished_at"`
	DurationMS json.Number    `json:"duration_ms"`
	Parameters map[string]any `json:"parameters"`
	Tasks      []Task         `json:"tasks"`
}

// Task is one entry of Summary.Tasks.
type Task struct {
	Name       string      `json:"name"`
	State      string      `json:"state"`
	Attempts   int         `json:"attempts"`
	ExitCode   int         `json:"exit_code"`
	Error      string      `json:"error"`
	DurationMS json.Number `json:"duration_ms"`
	Inputs     IO          `json:"inputs"`
	Outputs    IO          `json:"outputs"`
	Log        string      `json:"log"`
	CachedFrom string      `json:"cached_from"`
	// AttemptHistory lists every attempt, oldest first.
	AttemptHistory []Attempt `json:"attempt_history"`
}

// Attempt is one entry of Task.AttemptHistory.
type Attempt struct {
	Number   int    `json:"number"`
	State    string `json:"state"`
	ExitCode *int   `json:"exit_code"`
	Error    string `json:"error"`
	Log      string `json:"log"`
}

// IO holds a task's inputs or outputs.
type IO struct {
	Parameters map[string]any        `json:"parameters"`
	Artifacts  map[string][]Artifact `json:"artifacts"`
}

// Artifact is one runtime artifact.
type Artifact struct {
	URI      string         `json:"uri"`
	Path     string         `json:"path"`
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
}

// result is what one weir invocation produced.
type result struct {
	args   []string
	code   int
	stdout string
	stderr string
}

func (r result) String() string {
	return fmt.Sprintf("weir %s\nexit code: %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.args, " "), r.code, indent(r.stdout), indent(r.stderr))
}

func indent(s string) string {
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// weir runs the binary with WEIR_HOME=home and the suite's shared Python
// environment cache.
func weir(t *testing.T, home string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, weirBin, args...)
	cmd.Dir = home
	cmd.WaitDelay = 10 * time.Second
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEIR_HOME=") || strings.HasPrefix(kv, "WEIR_PYENV_ROOT=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "WEIR_HOME="+home, "WEIR_PYENV_ROOT="+pyenvRoot)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("timed out after %v\n%s", commandTimeout, r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("starting weir: %v", err)
	}
	return r
}

// runJSON runs `weir run FILE -o json ARGS...` and decodes the summary,
// which must be the only thing on stdout.
func runJSON(t *testing.T, home, file string, args ...string) (result, *Summary) {
	t.Helper()
	r := weir(t, home, append([]string{"run", file, "-o", "json"}, args...)...)
	return r, decodeSummary(t, r)
}

// decodeSummary strictly decodes a run summary from r's stdout.
func decodeSummary(t *testing.T, r result) *Summary {
	t.Helper()
	var s Summary
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("stdout is not a JSON run summary: %v\n%s", err, r)
	}
	if rest := strings.TrimSpace(r.stdout[dec.InputOffset():]); rest != "" {
		t.Fatalf("stdout holds more than the JSON summary: %q\n%s", rest, r)
	}
	if s.RunID == "" {
		t.Fatalf("summary has no run_id\n%s", r)
	}
	return &s
}

// task returns the named task of the summary.
func (s *Summary) task(t *testing.T, name string) *Task {
	t.Helper()
	for i := range s.Tasks {
		if s.Tasks[i].Name == name {
			return &s.Tasks[i]
		}
	}
	names := make([]string, 0, len(s.Tasks))
	for _, tk := range s.Tasks {
		names = append(names, tk.Name)
	}
	t.Fatalf("run %s has no task %q; tasks: %v", s.RunID, name, names)
	return nil
}

// describe renders the run's states, errors and the tail of failed tasks'
// logs, for failure messages.
func (s *Summary) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s (%s): state=%s error=%q\n", s.RunID, s.Pipeline, s.State, s.Error)
	for _, tk := range s.Tasks {
		fmt.Fprintf(&b, "  task %-16s state=%-9s attempts=%d exit_code=%d error=%q\n",
			tk.Name, tk.State, tk.Attempts, tk.ExitCode, tk.Error)
		if tk.State == "failed" && tk.Log != "" {
			if data, err := os.ReadFile(tk.Log); err == nil {
				lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
				if len(lines) > 25 {
					lines = lines[len(lines)-25:]
				}
				fmt.Fprintf(&b, "    log tail:\n%s\n", indent(indent(strings.Join(lines, "\n"))))
			}
		}
	}
	return b.String()
}

// mustSucceed fails the test now unless the run and all its tasks
// succeeded with exit code 0.
func mustSucceed(t *testing.T, r result, s *Summary, wantTasks ...string) {
	t.Helper()
	ok := r.code == 0 && s.State == "succeeded" && s.Error == ""
	for _, tk := range s.Tasks {
		if tk.State != "succeeded" || tk.ExitCode != 0 || tk.Attempts != 1 {
			ok = false
		}
	}
	if !ok {
		t.Fatalf("want a succeeded run, exit code 0, every task succeeded in 1 attempt\n%s\nstderr:\n%s", s.describe(), indent(r.stderr))
	}
	var got []string
	for _, tk := range s.Tasks {
		got = append(got, tk.Name)
	}
	sort.Strings(got)
	want := append([]string(nil), wantTasks...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("tasks = %v, want %v", got, want)
	}
}

// canon renders a decoded JSON value canonically (object keys sorted,
// numbers as written by weir).
func canon(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

// canonJSON parses a JSON text and renders it canonically.
func canonJSON(t *testing.T, text string) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", text, err)
	}
	return canon(t, v)
}

// wantJSON checks that got equals the JSON text want, including how its
// numbers are written (7 is not 7.0).
func wantJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	if g, w := canon(t, got), canonJSON(t, want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// wantParam checks one parameter of a task's inputs or outputs.
func wantParam(t *testing.T, tk *Task, io IO, kind, name, want string) {
	t.Helper()
	v, ok := io.Parameters[name]
	if !ok {
		t.Errorf("task %s: %s parameter %q is missing (have %s)", tk.Name, kind, name, keys(io.Parameters))
		return
	}
	wantJSON(t, fmt.Sprintf("task %s: %s parameter %q", tk.Name, kind, name), v, want)
}

func wantOut(t *testing.T, tk *Task, name, want string) {
	t.Helper()
	wantParam(t, tk, tk.Outputs, "output", name, want)
}

func wantIn(t *testing.T, tk *Task, name, want string) {
	t.Helper()
	wantParam(t, tk, tk.Inputs, "input", name, want)
}

// outString returns a STRING output parameter.
func outString(t *testing.T, tk *Task, name string) string {
	t.Helper()
	v, ok := tk.Outputs.Parameters[name].(string)
	if !ok {
		t.Fatalf("task %s: output parameter %q = %#v, want a string (have %s)", tk.Name, name, tk.Outputs.Parameters[name], keys(tk.Outputs.Parameters))
	}
	return v
}

// outStruct returns an output parameter decoded as a JSON object.
func outStruct(t *testing.T, tk *Task, name string) map[string]any {
	t.Helper()
	v, ok := tk.Outputs.Parameters[name].(map[string]any)
	if !ok {
		t.Fatalf("task %s: output parameter %q = %#v, want an object", tk.Name, name, tk.Outputs.Parameters[name])
	}
	return v
}

func keys[V any](m map[string]V) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return "[" + strings.Join(ks, " ") + "]"
}

// artifact returns the single artifact of a task's input or output.
func artifact(t *testing.T, tk *Task, io IO, name string) Artifact {
	t.Helper()
	list, ok := io.Artifacts[name]
	if !ok {
		t.Fatalf("task %s: artifact %q is missing (have %s)", tk.Name, name, keys(io.Artifacts))
	}
	if len(list) != 1 {
		t.Fatalf("task %s: artifact %q has %d entries, want 1", tk.Name, name, len(list))
	}
	a := list[0]
	if !filepath.IsAbs(a.URI) {
		t.Errorf("task %s: artifact %q uri %q is not an absolute local path", tk.Name, name, a.URI)
	}
	return a
}

// wantArtifactURI checks the documented layout
// <root>/<pipeline>/<run-id>/<task>/<output>.
func wantArtifactURI(t *testing.T, a Artifact, root string, s *Summary, task, output string) {
	t.Helper()
	want := filepath.Join(root, s.Pipeline, s.RunID, task, output)
	if filepath.Clean(a.URI) != want {
		t.Errorf("artifact %s/%s uri = %q, want %q", task, output, a.URI, want)
	}
}

// readFile returns a file's content or fails the test.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(b)
}

// editedCopy writes a copy of the compiled YAML src into a fresh directory
// as name, with each edit {old, new} applied; old must occur exactly once.
func editedCopy(t *testing.T, src, name string, edits ...[2]string) string {
	t.Helper()
	text := readFile(t, src)
	for _, e := range edits {
		if n := strings.Count(text, e[0]); n != 1 {
			t.Fatalf("edit of %s: %q occurs %d times, want 1", filepath.Base(src), e[0], n)
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// tryCanon parses a JSON text and renders it canonically.
func tryCanon(text string) (string, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	if dec.More() {
		return "", fmt.Errorf("trailing data after JSON value")
	}
	b, err := json.Marshal(v)
	return string(b), err
}
