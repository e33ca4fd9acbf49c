//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSemanticsRetry: set_retry makes each retry a new attempt; failed
// attempts stay in attempt_history with their exit code, error and log; a
// task succeeds when a later attempt passes and fails after num_retries+1
// attempts; the backoff between attempts grows by backoff_factor; a task
// without a retry policy gets one attempt.
func TestSemanticsRetry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	home := t.TempDir()
	r, s := semRun(t, home, pipelineFile(t, "sem_retry"), "-p", "dir="+dir)
	semWantRun(t, r, s, 1, "failed")
	semWantTasks(t, s, "flaky", "after", "flaky-2", "after-2", "flaky-3", "flaky-4")

	// history checks a task's attempts: the first `failed` fail with exit
	// code 3 and the step's own error line, then (if pass) one succeeds.
	history := func(task, name string, failed int, pass bool) {
		t.Helper()
		tk := s.task(t, task)
		n := failed
		if pass {
			n++
		}
		if len(tk.AttemptHistory) != n {
			t.Fatalf("%s: %d attempts in attempt_history, want %d: %+v", task, len(tk.AttemptHistory), n, tk.AttemptHistory)
		}
		for i, a := range tk.AttemptHistory {
			if a.Number != i+1 {
				t.Errorf("%s attempt %d: number %d", task, i+1, a.Number)
			}
			wantState, wantCode := "failed", 3
			if i == failed {
				wantState, wantCode = "succeeded", 0
			}
			if a.State != wantState || a.ExitCode == nil || *a.ExitCode != wantCode {
				t.Errorf("%s attempt %d: state=%s exit_code=%v, want %s, %d", task, i+1, a.State, a.ExitCode, wantState, wantCode)
			}
			if wantState == "failed" && !strings.Contains(a.Error, fmt.Sprintf("%s attempt %d failing", name, i+1)) {
				t.Errorf("%s attempt %d: error %q, want the attempt's last log line %q", task, i+1, a.Error, fmt.Sprintf("%s attempt %d failing", name, i+1))
			}
			if a.Log == "" {
				t.Errorf("%s attempt %d has no log", task, i+1)
				continue
			}
			if got := readFile(t, a.Log); !strings.Contains(got, fmt.Sprintf("attempt %d of %s", i+1, name)) {
				t.Errorf("%s attempt %d log %s = %q, want that attempt's output", task, i+1, a.Log, got)
			}
		}
		if c := countLines(t, filepath.Join(dir, name+".count")); c != 1 {
			t.Errorf("%s.count has %d lines", name, c)
		}
		if got := strings.TrimSpace(readFile(t, filepath.Join(dir, name+".count"))); got != strconv.Itoa(n) {
			t.Errorf("%s ran %s times, want %d", name, got, n)
		}
	}

	// Fails twice, num_retries=2: succeeds on attempt 3.
	rec := semWantTask(t, s, "flaky", "container", "succeeded", 3)
	history("flaky", "recovers", 2, true)
	semOut(t, rec, "out", `"recovers succeeded on attempt 3"`)
	if rec.ExitCode == nil || *rec.ExitCode != 0 {
		t.Errorf("flaky exit_code = %v, want 0 (the last attempt's)", rec.ExitCode)
	}
	semIn(t, semWantRan(t, s, "after"), "text", `"recovers succeeded on attempt 3"`)

	// Always fails, num_retries=2: failed after exactly 3 attempts.
	ex := semWantTask(t, s, "flaky-2", "container", "failed", 3)
	history("flaky-2", "exhausted", 3, false)
	if !strings.Contains(ex.Error, "exhausted attempt 3 failing") {
		t.Errorf("flaky-2 error = %q, want the last attempt's error", ex.Error)
	}
	semWantNeverRan(t, s, "after-2", "container", "skipped")

	// Backoff 1 s, factor 2: the attempts start >= 1 s, then >= 2 s apart.
	semWantTask(t, s, "flaky-3", "container", "succeeded", 3)
	history("flaky-3", "backoff", 2, true)
	var starts []float64
	for _, line := range strings.Fields(readFile(t, filepath.Join(dir, "backoff.starts"))) {
		f, err := strconv.ParseFloat(line, 64)
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, f)
	}
	if len(starts) != 3 {
		t.Fatalf("backoff started %d times, want 3", len(starts))
	}
	if g := starts[1] - starts[0]; g < 0.99 || g > 1.9 {
		t.Errorf("attempt 2 started %.3f s after attempt 1, want 1 s of backoff (backoff_duration)", g)
	}
	if g := starts[2] - starts[1]; g < 1.99 || g > 2.9 {
		t.Errorf("attempt 3 started %.3f s after attempt 2, want 2 s of backoff (1 s × backoff_factor 2)", g)
	}

	// No retry policy: one attempt.
	once := semWantTask(t, s, "flaky-4", "container", "failed", 1)
	history("flaky-4", "once", 1, false)
	if once.ExitCode == nil || *once.ExitCode != 3 {
		t.Errorf("flaky-4 exit_code = %v, want 3", once.ExitCode)
	}

	if !(strings.Contains(s.Error, "flaky-2") && strings.Contains(s.Error, "exhausted attempt 3 failing")) &&
		!(strings.Contains(s.Error, "flaky-4") && strings.Contains(s.Error, "once attempt 1 failing")) {
		t.Errorf("run error = %q, want it to name a failed task (flaky-2 or flaky-4) and its last log line", s.Error)
	}
	if t.Failed() {
		t.Logf("%s", s.describe())
	}
}

// TestSemanticsCaching: results are reused across runs of one WEIR_HOME
// (cached, with cached_from and the same outputs), not with --no-cache, never
// for a task with caching disabled, not when a parameter changes; the key
// depends on input artifact content, not on the artifact's URI or run, so a
// different pipeline computing the same step shares it; deleting the cached
// artifact files turns the entry into a miss.
func TestSemanticsCaching(t *testing.T) {
	t.Parallel()
	home, dir := t.TempDir(), t.TempDir()
	file := pipelineFile(t, "sem_cache")
	tasks := []string{"produce", "consume", "regen", "consume-2"}
	counts := func(want map[string]int) {
		t.Helper()
		for name, n := range want {
			if got := countLines(t, filepath.Join(dir, name+".runs")); got != n {
				t.Errorf("step %s really ran %d times so far, want %d", name, got, n)
			}
		}
	}
	cached := func(s *semSummary, name string) *semTask {
		t.Helper()
		tk := semWantTask(t, s, name, "container", "cached", 0)
		if tk.CachedFrom == "" {
			t.Errorf("run %s: cached task %s has no cached_from", s.RunID, name)
		}
		return tk
	}

	// Run 1: everything runs.
	r1, s1 := semRun(t, home, file, "-p", "dir="+dir)
	semWantRun(t, r1, s1, 0, "succeeded")
	semWantTasks(t, s1, tasks...)
	for _, name := range tasks {
		if tk := semWantRan(t, s1, name); tk.CachedFrom != "" {
			t.Errorf("run 1: %s cached_from = %q on a first run", name, tk.CachedFrom)
		}
	}
	p1 := s1.task(t, "produce")
	semOut(t, p1, "n", "1")
	data1 := p1.outArt(t, "data")
	if got := readFile(t, data1.URI); got != "content-a" {
		t.Fatalf("produce wrote %q", got)
	}
	semOut(t, s1.task(t, "consume"), "out", `"saw:content-a"`)
	semOut(t, s1.task(t, "consume-2"), "out", `"saw:regenerated"`)
	regen1 := s1.task(t, "regen").outArt(t, "data")
	counts(map[string]int{"produce": 1, "consume-produced": 1, "regen": 1, "consume-regen": 1})

	// Run 2, same inputs: cached, except regen (caching disabled), whose new
	// artifact (new URI, same content) still gives consume-2 a hit.
	r2, s2 := semRun(t, home, file, "-p", "dir="+dir)
	semWantRun(t, r2, s2, 0, "succeeded")
	p2 := cached(s2, "produce")
	semOut(t, p2, "n", "1")
	if a := p2.outArt(t, "data"); a.URI != data1.URI || a.Size != int64(len("content-a")) {
		t.Errorf("run 2: cached produce output %+v, want run 1's artifact %q", a, data1.URI)
	}
	c2 := cached(s2, "consume")
	semOut(t, c2, "out", `"saw:content-a"`)
	regen2 := semWantRan(t, s2, "regen").outArt(t, "data")
	if regen2.URI == regen1.URI {
		t.Errorf("run 2: regen (caching disabled) reused run 1's artifact %q", regen1.URI)
	}
	if !strings.Contains(regen2.URI, s2.RunID) {
		t.Errorf("run 2: regen artifact %q is not under run 2 (%s)", regen2.URI, s2.RunID)
	}
	cr2 := cached(s2, "consume-2")
	if in := cr2.inArt(t, "data"); in.URI != regen2.URI {
		t.Errorf("run 2: consume-2 input %q, want run 2's regen artifact %q", in.URI, regen2.URI)
	}
	semOut(t, cr2, "out", `"saw:regenerated"`)
	counts(map[string]int{"produce": 1, "consume-produced": 1, "regen": 2, "consume-regen": 1})

	// Run 3, --no-cache: everything runs again.
	r3, s3 := semRun(t, home, file, "-p", "dir="+dir, "--no-cache")
	semWantRun(t, r3, s3, 0, "succeeded")
	for _, name := range tasks {
		if tk := semWantRan(t, s3, name); tk.CachedFrom != "" {
			t.Errorf("run 3 (--no-cache): %s cached_from = %q", name, tk.CachedFrom)
		}
	}
	data3 := s3.task(t, "produce").outArt(t, "data")
	semOut(t, s3.task(t, "consume"), "out", `"saw:content-a"`)
	counts(map[string]int{"produce": 2, "consume-produced": 2, "regen": 3, "consume-regen": 2})

	// Run 4, another seed: produce and its consumer miss; consume-2 (same
	// regenerated content) hits.
	r4, s4 := semRun(t, home, file, "-p", "dir="+dir, "-p", "seed=bb")
	semWantRun(t, r4, s4, 0, "succeeded")
	p4 := semWantRan(t, s4, "produce")
	semOut(t, p4, "n", "2")
	if got := readFile(t, p4.outArt(t, "data").URI); got != "content-bb" {
		t.Errorf("run 4: produce wrote %q", got)
	}
	semOut(t, semWantRan(t, s4, "consume"), "out", `"saw:content-bb"`)
	semWantRan(t, s4, "regen")
	semOut(t, cached(s4, "consume-2"), "out", `"saw:regenerated"`)
	counts(map[string]int{"produce": 3, "consume-produced": 3, "regen": 4, "consume-regen": 2})

	// Run 5: another pipeline (sem-cache-other) with the same steps and
	// inputs shares the cache; the reused artifact is the sem-cache one.
	r5, s5 := semRun(t, home, pipelineFile(t, "sem_cache_other"), "-p", "dir="+dir)
	semWantRun(t, r5, s5, 0, "succeeded")
	if s5.Pipeline != "sem-cache-other" {
		t.Errorf("pipeline = %q", s5.Pipeline)
	}
	p5 := cached(s5, "produce")
	if a := p5.outArt(t, "data"); a.URI != data1.URI && a.URI != data3.URI {
		t.Errorf("run 5: produce output %q, want the sem-cache artifact of run 1 (%q) or run 3 (%q)", a.URI, data1.URI, data3.URI)
	}
	semOut(t, cached(s5, "consume"), "out", `"saw:content-a"`)
	semWantRan(t, s5, "regen")
	cached(s5, "consume-2")
	counts(map[string]int{"produce": 3, "consume-produced": 3, "regen": 5, "consume-regen": 2})

	// Run 6: the artifacts produce wrote are deleted: a miss; its consumer
	// then gets a new artifact with the same content: a hit.
	for _, uri := range []string{data1.URI, data3.URI} {
		if err := os.Remove(uri); err != nil {
			t.Fatal(err)
		}
	}
	r6, s6 := semRun(t, home, file, "-p", "dir="+dir)
	semWantRun(t, r6, s6, 0, "succeeded")
	p6 := semWantRan(t, s6, "produce")
	if p6.CachedFrom != "" {
		t.Errorf("run 6: produce cached_from = %q although its artifacts are gone", p6.CachedFrom)
	}
	data6 := p6.outArt(t, "data")
	if !strings.Contains(data6.URI, s6.RunID) || readFile(t, data6.URI) != "content-a" {
		t.Errorf("run 6: produce output %q, want a new artifact of run %s holding content-a", data6.URI, s6.RunID)
	}
	c6 := cached(s6, "consume")
	if in := c6.inArt(t, "data"); in.URI != data6.URI {
		t.Errorf("run 6: consume input %q, want %q", in.URI, data6.URI)
	}
	counts(map[string]int{"produce": 4, "consume-produced": 3, "regen": 6, "consume-regen": 2})
	if t.Failed() {
		for i, s := range []*semSummary{s1, s2, s3, s4, s5, s6} {
			t.Logf("run %d:\n%s", i+1, s.describe())
		}
	}
}

// TestSemanticsTimeouts: kfp.kubernetes.set_timeout kills an attempt that
// runs too long (the task fails with an error about the timeout, well before
// the step's 30 s sleep ends); with set_retry a timed-out attempt is retried;
// --task-timeout applies to tasks without a timeout of their own, and a
// task's own timeout wins over it.
func TestSemanticsTimeouts(t *testing.T) {
	t.Parallel()
	file := pipelineFile(t, "sem_timeout")
	timedOut := func(t *testing.T, s *semSummary, name string, attempts int, limitMS int64) {
		t.Helper()
		tk := semWantTask(t, s, name, "container", "failed", attempts)
		if !strings.Contains(strings.ToLower(tk.Error), "timed out") && !strings.Contains(strings.ToLower(tk.Error), "timeout") {
			t.Errorf("%s: error %q does not mention the timeout", name, tk.Error)
		}
		if len(tk.AttemptHistory) != attempts {
			t.Fatalf("%s: attempt history %+v, want %d attempts", name, tk.AttemptHistory, attempts)
		}
		for _, a := range tk.AttemptHistory {
			if a.State != "failed" || !strings.Contains(strings.ToLower(a.Error), "timed out") {
				t.Errorf("%s attempt %d: state=%s error=%q, want failed by the timeout", name, a.Number, a.State, a.Error)
			}
			if a.DurationMS < limitMS-50 || a.DurationMS > limitMS+5000 {
				t.Errorf("%s attempt %d lasted %d ms, want about %d ms", name, a.Number, a.DurationMS, limitMS)
			}
		}
	}

	t.Run("own", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, s := semRun(t, t.TempDir(), file, "-p", "dir="+dir)
		semWantRun(t, r, s, 1, "failed")
		semWantTasks(t, s, "nap", "nap-2", "nap-3", "nap-4")
		timedOut(t, s, "nap", 1, 2000)
		timedOut(t, s, "nap-2", 2, 1000)
		if c := countLines(t, filepath.Join(dir, "retried.attempts")); c != 2 {
			t.Errorf("the retried step started %d times, want 2", c)
		}
		for name, want := range map[string]string{"nap-3": "plain slept 0", "nap-4": "roomy slept 0"} {
			if got := semWantRan(t, s, name).outText(t, "out"); !strings.HasPrefix(got, want) {
				t.Errorf("%s output %q, want %q", name, got, want)
			}
		}
		if s.DurationMS > 15000 {
			t.Errorf("the run took %d ms: the 30 s sleeps were not cut short", s.DurationMS)
		}
		if !strings.Contains(s.Error, "nap") {
			t.Errorf("run error %q does not name a timed-out task", s.Error)
		}
	})

	t.Run("flag", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		r, s := semRun(t, t.TempDir(), file, "-p", "dir="+dir, "--task-timeout", "1s",
			"-p", "plain_seconds=30", "-p", "roomy_seconds=1.6")
		semWantRun(t, r, s, 1, "failed")
		// No timeout of its own: --task-timeout 1s.
		timedOut(t, s, "nap-3", 1, 1000)
		// Its own 2 s wins over the flag's 1 s.
		timedOut(t, s, "nap", 1, 2000)
		timedOut(t, s, "nap-2", 2, 1000)
		// Its own 20 s wins over the flag's 1 s: a 1.6 s step succeeds.
		roomy := semWantRan(t, s, "nap-4")
		if got := roomy.outText(t, "out"); got != "roomy slept 1.6" {
			t.Errorf("nap-4 output %q, want %q", got, "roomy slept 1.6")
		}
		if roomy.DurationMS < 1600 {
			t.Errorf("nap-4 took %d ms, want >= 1600", roomy.DurationMS)
		}
		if s.DurationMS > 15000 {
			t.Errorf("the run took %d ms: the 30 s sleep was not cut short", s.DurationMS)
		}
	})
}

// TestSemanticsImporter: dsl.importer with a constant URI and with a URI from
// a pipeline parameter registers the file as the task's output artifact
// `artifact`, with the importer's metadata (constants and parameters); the
// consumer reads the file. With reimport=False a second import of the same
// URI in the same WEIR_HOME yields the artifact recorded the first time (its
// metadata did not change although the parameter did); with reimport=True a
// new artifact with the new metadata. weir's summary has no artifact id, so
// the artifact's identity is observed through its URI and metadata.
func TestSemanticsImporter(t *testing.T) {
	t.Parallel()
	home, files := t.TempDir(), t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	constURI, freshURI, keptURI := write("const.txt", "const-data"), write("fresh.txt", "fresh-1"), write("kept.txt", "kept-1")
	// The constant URI is compiled into the YAML twice (the executor and the
	// task's uri input).
	file := semReplaceAll(t, pipelineFile(t, "sem_importer"), "sem_importer.yaml",
		"/weir-e2e-placeholder/const-import.txt", constURI, 2)
	args := func(owner string) []string {
		return []string{"-p", "fresh_uri=" + freshURI, "-p", "kept_uri=" + keptURI, "-p", "owner=" + owner}
	}
	// check checks an importer's output and its consumer's view of it.
	check := func(s *semSummary, importer, reader, uri, content, meta string) {
		t.Helper()
		im := semWantTask(t, s, importer, "importer", "succeeded", 0)
		a := im.outArt(t, "artifact")
		if a.URI != uri || a.Type != "system.Dataset" || a.Size != int64(len(content)) {
			t.Errorf("run %s: %s artifact = %+v, want uri %q, type system.Dataset, size %d", s.RunID, importer, a, uri, len(content))
		}
		wantJSON(t, fmt.Sprintf("run %s: %s artifact metadata", s.RunID, importer), a.Metadata, meta)
		rd := s.task(t, reader)
		if rd.State != "succeeded" && rd.State != "cached" {
			t.Errorf("run %s: %s state %s", s.RunID, reader, rd.State)
		}
		in := rd.inArt(t, "data")
		if in.URI != uri {
			t.Errorf("run %s: %s input uri %q, want %q", s.RunID, reader, in.URI, uri)
		}
		wantJSON(t, fmt.Sprintf("run %s: %s input metadata", s.RunID, reader), in.Metadata, meta)
		// The step printed the file's content, its URI and the metadata it got.
		parts := strings.SplitN(rd.outText(t, "out"), "|", 3)
		if len(parts) != 3 || parts[0] != content || parts[1] != uri {
			t.Errorf("run %s: %s saw %q, want %q|%q|<metadata>", s.RunID, reader, rd.outText(t, "out"), content, uri)
		} else {
			semWantJSONText(t, fmt.Sprintf("run %s: metadata %s saw", s.RunID, reader), parts[2], meta)
		}
	}

	r1, s1 := semRun(t, home, file, args("alice")...)
	semWantRun(t, r1, s1, 0, "succeeded")
	semWantTasks(t, s1, "importer", "importer-2", "importer-3", "read-it", "read-it-2", "read-it-3")
	check(s1, "importer", "read-it", constURI, "const-data", `{"origin": "constant", "rows": 2}`)
	check(s1, "importer-2", "read-it-2", freshURI, "fresh-1", `{"origin": "fresh", "owner": "alice"}`)
	check(s1, "importer-3", "read-it-3", keptURI, "kept-1", `{"origin": "kept", "owner": "alice"}`)
	semIn(t, s1.task(t, "importer-2"), "uri", strconv.Quote(freshURI))
	semIn(t, s1.task(t, "importer"), "uri", strconv.Quote(constURI))

	// Second run, same WEIR_HOME, owner=bob.
	r2, s2 := semRun(t, home, file, args("bob")...)
	semWantRun(t, r2, s2, 0, "succeeded")
	check(s2, "importer", "read-it", constURI, "const-data", `{"origin": "constant", "rows": 2}`)
	// reimport=True: a new artifact carrying this run's metadata.
	check(s2, "importer-2", "read-it-2", freshURI, "fresh-1", `{"origin": "fresh", "owner": "bob"}`)
	// reimport=False: the artifact recorded by run 1, with its metadata.
	check(s2, "importer-3", "read-it-3", keptURI, "kept-1", `{"origin": "kept", "owner": "alice"}`)

	// The stored runs say the same (runs get -o json).
	g1, g2 := semGet(t, home, s1.RunID), semGet(t, home, s2.RunID)
	k1, k2 := g1.task(t, "importer-3").outArt(t, "artifact"), g2.task(t, "importer-3").outArt(t, "artifact")
	if canon(t, k1) != canon(t, k2) {
		t.Errorf("reimport=False: runs get shows different artifacts for the same URI:\n run 1: %s\n run 2: %s", canon(t, k1), canon(t, k2))
	}
	f1, f2 := g1.task(t, "importer-2").outArt(t, "artifact"), g2.task(t, "importer-2").outArt(t, "artifact")
	if f1.URI != f2.URI || canon(t, f1.Metadata) == canon(t, f2.Metadata) {
		t.Errorf("reimport=True: runs get shows run 1 %s and run 2 %s; want the same URI with each run's own metadata", canon(t, f1), canon(t, f2))
	}
}
