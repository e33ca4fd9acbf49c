//go:build e2e

package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestRunsListGetLogs: runs are stored in WEIR_HOME; `runs list` shows them
// newest first, `runs get -o json` prints the same summary as `run -o json`
// and `logs` prints what a task wrote to stdout and stderr.
func TestRunsListGetLogs(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	file := pipelineFile(t, "hello")

	r1, first := runJSON(t, home, file, "-p", "who=first")
	mustSucceed(t, r1, first, "say", "shout")
	say := first.task(t, "say")
	wantIn(t, say, "n", `2`)
	wantOut(t, say, "greeting", `"hello first x2"`)
	wantOut(t, first.task(t, "shout"), "out", `"hello first x2!"`)

	r2, second := runJSON(t, home, file, "-p", "who=second", "-p", "n=3")
	mustSucceed(t, r2, second, "say", "shout")
	wantOut(t, second.task(t, "shout"), "out", `"hello second x3!"`)
	if first.RunID == second.RunID {
		t.Fatalf("two runs share the id %s", first.RunID)
	}

	// runs list: both runs, newest first.
	list := weir(t, home, "runs", "list")
	if list.code != 0 {
		t.Fatalf("runs list failed\n%s", list)
	}
	i1, i2 := strings.Index(list.stdout, first.RunID), strings.Index(list.stdout, second.RunID)
	if i1 < 0 || i2 < 0 {
		t.Errorf("runs list does not show both runs %s and %s\n%s", first.RunID, second.RunID, list)
	} else if i2 > i1 {
		t.Errorf("runs list is not newest first\n%s", list)
	}

	listJSON := weir(t, home, "runs", "list", "-o", "json")
	if listJSON.code != 0 {
		t.Fatalf("runs list -o json failed\n%s", listJSON)
	}
	if _, err := tryCanon(listJSON.stdout); err != nil {
		t.Errorf("runs list -o json is not a JSON document: %v\n%s", err, listJSON)
	}
	j1, j2 := strings.Index(listJSON.stdout, `"`+first.RunID+`"`), strings.Index(listJSON.stdout, `"`+second.RunID+`"`)
	if j1 < 0 || j2 < 0 || j2 > j1 {
		t.Errorf("runs list -o json must hold both runs, newest first\n%s", listJSON)
	}

	// runs get -o json: the very summary `run -o json` printed.
	get := weir(t, home, "runs", "get", first.RunID, "-o", "json")
	if get.code != 0 {
		t.Fatalf("runs get failed\n%s", get)
	}
	decodeSummary(t, get)
	if g, w := mustCanon(t, get.stdout), mustCanon(t, r1.stdout); g != w {
		t.Errorf("runs get -o json differs from run -o json:\n get: %s\n run: %s", g, w)
	}
	getText := weir(t, home, "runs", "get", second.RunID)
	if getText.code != 0 || !strings.Contains(getText.stdout, second.RunID) ||
		!strings.Contains(getText.stdout, "shout") || !strings.Contains(getText.stdout, "succeeded") {
		t.Errorf("runs get (text) must show the run, its tasks and their states\n%s", getText)
	}

	// logs: combined stdout and stderr of the task's last attempt.
	logs := weir(t, home, "logs", first.RunID, "say")
	for _, want := range []string{"hello-from-weir-e2e first #0", "hello-from-weir-e2e first #1", "to-stderr first"} {
		if logs.code != 0 || !strings.Contains(logs.stdout, want) {
			t.Errorf("weir logs %s say lacks %q\n%s", first.RunID, want, logs)
		}
	}
	if strings.Contains(logs.stdout, "second") {
		t.Errorf("weir logs of the first run shows the second run's output\n%s", logs)
	}
	if say.Log == "" || !strings.Contains(readFile(t, say.Log), "hello-from-weir-e2e first #1") {
		t.Errorf("the summary's log file %q lacks the task's output", say.Log)
	}
	attempt := weir(t, home, "logs", second.RunID, "say", "--attempt", "1")
	if attempt.code != 0 || !strings.Contains(attempt.stdout, "hello-from-weir-e2e second #2") {
		t.Errorf("weir logs --attempt 1 lacks the task's output\n%s", attempt)
	}

	// Unknown run or task: an error, not an empty success.
	if r := weir(t, home, "logs", first.RunID, "no-such-task"); r.code == 0 {
		t.Errorf("logs of an unknown task succeeded\n%s", r)
	}
	if r := weir(t, home, "runs", "get", "no-such-run"); r.code == 0 {
		t.Errorf("runs get of an unknown run succeeded\n%s", r)
	}
}

func mustCanon(t *testing.T, text string) string {
	t.Helper()
	c, err := tryCanon(text)
	if err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, text)
	}
	return c
}

// TestRunTextAndVerbose: without -o json the run still exits 0; -v streams
// every task's output, each line prefixed with the task name.
func TestRunTextAndVerbose(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	file := pipelineFile(t, "hello")
	r := weir(t, home, "run", file, "-p", "who=plain")
	if r.code != 0 {
		t.Fatalf("run failed\n%s", r)
	}
	if strings.TrimSpace(r.stdout+r.stderr) == "" {
		t.Errorf("a text-mode run printed nothing")
	}
	if json.Valid([]byte(r.stdout)) && strings.HasPrefix(strings.TrimSpace(r.stdout), "{") {
		t.Errorf("text mode printed the JSON summary\n%s", r)
	}

	v := weir(t, home, "run", file, "-v", "-p", "who=verbose")
	if v.code != 0 {
		t.Fatalf("verbose run failed\n%s", v)
	}
	all := v.stdout + "\n" + v.stderr
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^.*\bsay\b.*hello-from-weir-e2e verbose #1`),
		regexp.MustCompile(`(?m)^.*\bsay\b.*to-stderr verbose`),
		regexp.MustCompile(`(?m)^.*\bshout\b.*shouting hello verbose x2`),
	} {
		if !re.MatchString(all) {
			t.Errorf("verbose output has no line matching %s\n%s", re, v)
		}
	}
}
