//go:build e2e

package e2e

// Helpers for the semantics tests (control flow, loops, retries, caching,
// timeouts, cancellation): a run summary decoded with every field the
// semantics tests assert (kind, cached_from, attempt_history, artifact
// size), and checks on task states.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// semSummary is the run summary of docs/cli.md, with every field.
type semSummary struct {
	RunID        string         `json:"run_id"`
	Pipeline     string         `json:"pipeline"`
	Name         string         `json:"name"`
	State        string         `json:"state"`
	Error        string         `json:"error"`
	CreatedAt    string         `json:"created_at"`
	FinishedAt   string         `json:"finished_at"`
	DurationMS   int64          `json:"duration_ms"`
	Parameters   map[string]any `json:"parameters"`
	PipelineRoot string         `json:"pipeline_root"`
	Tasks        []semTask      `json:"tasks"`
}

type semTask struct {
	Name           string       `json:"name"`
	Kind           string       `json:"kind"`
	State          string       `json:"state"`
	Attempts       int          `json:"attempts"`
	ExitCode       *int         `json:"exit_code"`
	Error          string       `json:"error"`
	DurationMS     int64        `json:"duration_ms"`
	Inputs         semIO        `json:"inputs"`
	Outputs        semIO        `json:"outputs"`
	Log            string       `json:"log"`
	CachedFrom     string       `json:"cached_from"`
	AttemptHistory []semAttempt `json:"attempt_history"`
}

type semIO struct {
	Parameters map[string]any           `json:"parameters"`
	Artifacts  map[string][]semArtifact `json:"artifacts"`
}

type semArtifact struct {
	URI      string         `json:"uri"`
	Path     string         `json:"path"`
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
	Size     int64          `json:"size"`
}

type semAttempt struct {
	Number     int    `json:"number"`
	State      string `json:"state"`
	ExitCode   *int   `json:"exit_code"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
	Log        string `json:"log"`
}

// semRun runs `weir run FILE -o json ARGS...` and decodes the summary.
func semRun(t *testing.T, home, file string, args ...string) (result, *semSummary) {
	t.Helper()
	r := weir(t, home, append([]string{"run", file, "-o", "json"}, args...)...)
	return r, semDecode(t, r)
}

// semGet decodes `weir runs get RUN -o json`.
func semGet(t *testing.T, home, runID string) *semSummary {
	t.Helper()
	r := weir(t, home, "runs", "get", runID, "-o", "json")
	if r.code != 0 {
		t.Fatalf("runs get %s failed\n%s", runID, r)
	}
	return semDecode(t, r)
}

// semDecode decodes the run summary that must be the only thing on stdout.
func semDecode(t *testing.T, r result) *semSummary {
	t.Helper()
	decodeSummary(t, r) // the shared strictness checks: one JSON document, a run id
	var s semSummary
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("stdout is not a JSON run summary: %v\n%s", err, r)
	}
	return &s
}

// task returns the task with that path, or fails the test now.
func (s *semSummary) task(t *testing.T, name string) *semTask {
	t.Helper()
	for i := range s.Tasks {
		if s.Tasks[i].Name == name {
			return &s.Tasks[i]
		}
	}
	t.Fatalf("run %s has no task %q; tasks: %v\n%s", s.RunID, name, s.names(), s.describe())
	return nil
}

func (s *semSummary) names() []string {
	out := make([]string, 0, len(s.Tasks))
	for _, tk := range s.Tasks {
		out = append(out, tk.Name)
	}
	sort.Strings(out)
	return out
}

// describe renders states and errors (and failed tasks' log tails) for
// failure messages; long runs are cut short.
func (s *semSummary) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s (%s): state=%s error=%q\n", s.RunID, s.Pipeline, s.State, s.Error)
	for i, tk := range s.Tasks {
		if i == 80 {
			fmt.Fprintf(&b, "  ... %d more tasks\n", len(s.Tasks)-i)
			break
		}
		code := "-"
		if tk.ExitCode != nil {
			code = strconv.Itoa(*tk.ExitCode)
		}
		fmt.Fprintf(&b, "  %-9s %-44s state=%-9s attempts=%d exit_code=%s cached_from=%q error=%q\n",
			tk.Kind, tk.Name, tk.State, tk.Attempts, code, tk.CachedFrom, tk.Error)
		if tk.State == "failed" && tk.Log != "" {
			if data, err := os.ReadFile(tk.Log); err == nil {
				lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
				if len(lines) > 10 {
					lines = lines[len(lines)-10:]
				}
				fmt.Fprintf(&b, "    log tail:\n%s\n", indent(indent(strings.Join(lines, "\n"))))
			}
		}
	}
	return b.String()
}

// semWantRun checks the run's exit code and state.
func semWantRun(t *testing.T, r result, s *semSummary, code int, state string) {
	t.Helper()
	if r.code != code || s.State != state {
		t.Fatalf("exit code %d, run state %q; want %d, %q\n%s\nstderr:\n%s", r.code, s.State, code, state, s.describe(), indent(r.stderr))
	}
	if state == "succeeded" && s.Error != "" {
		t.Errorf("a succeeded run carries the error %q", s.Error)
	}
}

// semWantTasks checks that the run has exactly these tasks.
func semWantTasks(t *testing.T, s *semSummary, want ...string) {
	t.Helper()
	sort.Strings(want)
	got := s.names()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tasks =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// semWantTask checks a task's kind, state and number of attempts.
func semWantTask(t *testing.T, s *semSummary, name, kind, state string, attempts int) *semTask {
	t.Helper()
	tk := s.task(t, name)
	if tk.Kind != kind || tk.State != state || tk.Attempts != attempts {
		t.Errorf("task %s: kind=%s state=%s attempts=%d (error %q); want kind=%s state=%s attempts=%d",
			name, tk.Kind, tk.State, tk.Attempts, tk.Error, kind, state, attempts)
	}
	return tk
}

// semWantRan checks a container task that ran once and succeeded.
func semWantRan(t *testing.T, s *semSummary, name string) *semTask {
	t.Helper()
	tk := semWantTask(t, s, name, "container", "succeeded", 1)
	if tk.ExitCode == nil || *tk.ExitCode != 0 {
		t.Errorf("task %s: exit_code = %v, want 0", name, tk.ExitCode)
	}
	return tk
}

// semWantNeverRan checks a task that did not start: the state, no attempts,
// no outputs.
func semWantNeverRan(t *testing.T, s *semSummary, name, kind, state string) *semTask {
	t.Helper()
	tk := semWantTask(t, s, name, kind, state, 0)
	if len(tk.Outputs.Parameters) != 0 || len(tk.Outputs.Artifacts) != 0 {
		t.Errorf("task %s never ran but has outputs %v %v", name, tk.Outputs.Parameters, tk.Outputs.Artifacts)
	}
	if len(tk.AttemptHistory) != 0 {
		t.Errorf("task %s never ran but has attempt history %+v", name, tk.AttemptHistory)
	}
	return tk
}

// semOut / semIn check one parameter against a JSON text.
func semOut(t *testing.T, tk *semTask, name, want string) {
	t.Helper()
	semParam(t, tk, tk.Outputs, "output", name, want)
}

func semIn(t *testing.T, tk *semTask, name, want string) {
	t.Helper()
	semParam(t, tk, tk.Inputs, "input", name, want)
}

func semParam(t *testing.T, tk *semTask, io semIO, kind, name, want string) {
	t.Helper()
	v, ok := io.Parameters[name]
	if !ok {
		t.Errorf("task %s: %s parameter %q is missing (have %s)", tk.Name, kind, name, keys(io.Parameters))
		return
	}
	wantJSON(t, fmt.Sprintf("task %s: %s parameter %q", tk.Name, kind, name), v, want)
}

// outText returns a STRING output parameter.
func (tk *semTask) outText(t *testing.T, name string) string {
	t.Helper()
	v, ok := tk.Outputs.Parameters[name].(string)
	if !ok {
		t.Fatalf("task %s: output %q = %#v, want a string (outputs %s)", tk.Name, name, tk.Outputs.Parameters[name], keys(tk.Outputs.Parameters))
	}
	return v
}

// arts returns the artifact list of a task's input or output.
func (tk *semTask) arts(t *testing.T, io semIO, name string, n int) []semArtifact {
	t.Helper()
	list, ok := io.Artifacts[name]
	if !ok {
		t.Fatalf("task %s: artifact %q is missing (have %s)", tk.Name, name, keys(io.Artifacts))
	}
	if len(list) != n {
		t.Fatalf("task %s: artifact %q has %d entries, want %d: %+v", tk.Name, name, len(list), n, list)
	}
	return list
}

func (tk *semTask) outArt(t *testing.T, name string) semArtifact {
	t.Helper()
	return tk.arts(t, tk.Outputs, name, 1)[0]
}

func (tk *semTask) inArt(t *testing.T, name string) semArtifact {
	t.Helper()
	return tk.arts(t, tk.Inputs, name, 1)[0]
}

// semURIs lists the URIs of artifacts.
func semURIs(list []semArtifact) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.URI
	}
	return out
}

// semWantJSONText checks that a string holds the JSON value want, whatever its
// spacing (a list parameter rendered into a command line, for instance).
func semWantJSONText(t *testing.T, what, got, want string) {
	t.Helper()
	g, err := tryCanon(got)
	if err != nil {
		t.Errorf("%s = %q, not JSON: %v", what, got, err)
		return
	}
	if w := canonJSON(t, want); g != w {
		t.Errorf("%s = %s, want %s", what, g, w)
	}
}

// semIterations returns the paths loop/0, loop/1, ... of a loop's iterations,
// checking each is of kind iteration, in index order.
func semIterations(t *testing.T, s *semSummary, loop string) []string {
	t.Helper()
	re := regexp.MustCompile("^" + regexp.QuoteMeta(loop) + `/([0-9]+)$`)
	idx := []int{}
	for _, tk := range s.Tasks {
		m := re.FindStringSubmatch(tk.Name)
		if m == nil {
			continue
		}
		if tk.Kind != "iteration" {
			t.Errorf("task %s: kind %q, want iteration", tk.Name, tk.Kind)
		}
		n, _ := strconv.Atoi(m[1])
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]string, len(idx))
	for i, n := range idx {
		if n != i {
			t.Errorf("loop %s: iteration indices %v are not 0..%d", loop, idx, len(idx)-1)
			break
		}
		out[i] = fmt.Sprintf("%s/%d", loop, n)
	}
	return out
}

// semReplaceAll writes a copy of src with every occurrence of old replaced;
// old must occur exactly n times.
func semReplaceAll(t *testing.T, src, name, old, repl string, n int) string {
	t.Helper()
	text := readFile(t, src)
	if c := strings.Count(text, old); c != n {
		t.Fatalf("%s: %q occurs %d times, want %d", filepath.Base(src), old, c, n)
	}
	out := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(out, []byte(strings.ReplaceAll(text, old, repl)), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// countLines returns the number of lines of a file (0 if it is missing).
func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// semReadFloat reads a file holding one number (date +%s.%N).
func semReadFloat(t *testing.T, path string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSpace(readFile(t, path)), 64)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// semInterval is one step's [start, end] as it recorded them.
type semInterval struct {
	name       string
	start, end float64
}

// semMaxOverlap returns the largest number of intervals open at one instant.
func semMaxOverlap(iv []semInterval) int {
	type ev struct {
		at    float64
		delta int
	}
	evs := make([]ev, 0, 2*len(iv))
	for _, i := range iv {
		evs = append(evs, ev{i.start, 1}, ev{i.end, -1})
	}
	// At equal times, close before opening: touching intervals do not overlap.
	sort.Slice(evs, func(a, b int) bool {
		if evs[a].at != evs[b].at {
			return evs[a].at < evs[b].at
		}
		return evs[a].delta < evs[b].delta
	})
	cur, most := 0, 0
	for _, e := range evs {
		cur += e.delta
		if cur > most {
			most = cur
		}
	}
	return most
}

// semBgWeir is a weir process started in the background.
type semBgWeir struct {
	cmd            *exec.Cmd
	args           []string
	stdout, stderr *bytes.Buffer
	done           chan struct{}
	err            error
}

// semStartWeir starts weir with the same environment as weir() and returns at
// once; the process is killed when the test ends if it is still running.
func semStartWeir(t *testing.T, home string, args ...string) *semBgWeir {
	t.Helper()
	cmd := exec.Command(weirBin, args...)
	cmd.Dir = home
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WEIR_HOME=") || strings.HasPrefix(kv, "WEIR_PYENV_ROOT=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "WEIR_HOME="+home, "WEIR_PYENV_ROOT="+pyenvRoot)
	b := &semBgWeir{cmd: cmd, args: args, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = b.stdout, b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting weir: %v", err)
	}
	go func() {
		b.err = cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// signal sends sig to the weir process.
func (b *semBgWeir) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to weir: %v", sig, err)
	}
}

// wait waits for weir to exit and returns what it produced.
func (b *semBgWeir) wait(t *testing.T, limit time.Duration) result {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(limit):
		_ = b.cmd.Process.Kill()
		<-b.done
		t.Fatalf("weir did not exit within %v\nstdout:\n%s\nstderr:\n%s", limit, indent(b.stdout.String()), indent(b.stderr.String()))
	}
	r := result{args: b.args, code: b.cmd.ProcessState.ExitCode(), stdout: b.stdout.String(), stderr: b.stderr.String()}
	return r
}

// semWaitFor polls cond every 50 ms until it holds or the limit passes.
func semWaitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// semProcessGone reports whether pid no longer exists (or is a zombie about to
// be reaped).
func semProcessGone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses.
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}
