//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// reportWant is what one `report` container task of the container pipeline
// must have seen; see test/e2e/pipelines/container.py.
type reportWant struct {
	task            string
	greeting        string
	count           string
	ratio           string
	flag            string
	items           string // JSON
	conf            string // JSON
	concatIfPresent string
	ifPresent       []string
	env             string
	textOut         string
}

// reportSeen holds the runtime identifiers a report task printed.
type reportSeen struct {
	jobName, taskID string
}

// checkReport reads the task's report artifact (one line per argument it
// received) and compares every line.
func checkReport(t *testing.T, s *Summary, root string, w reportWant) reportSeen {
	t.Helper()
	tk := s.task(t, w.task)
	data := artifact(t, tk, tk.Inputs, "data")
	rep := artifact(t, tk, tk.Outputs, "report")
	wantArtifactURI(t, rep, root, s, w.task, "report")
	if rep.Type != "system.Artifact" {
		t.Errorf("%s: report type = %q, want system.Artifact", w.task, rep.Type)
	}
	wantOut(t, tk, "text_out", mustJSON(t, w.textOut))

	type line struct {
		prefix string
		check  func(rest string) string // returns a complaint or ""
	}
	exact := func(prefix, want string) line {
		return line{prefix, func(rest string) string {
			if rest != want {
				return fmt.Sprintf("want %q", want)
			}
			return ""
		}}
	}
	asJSON := func(prefix, want string) line {
		return line{prefix, func(rest string) string {
			if !jsonEqual(rest, want) {
				return fmt.Sprintf("want JSON %s", want)
			}
			return ""
		}}
	}
	resolved := func(prefix string) line {
		return line{prefix, func(rest string) string {
			if rest == "" || strings.Contains(rest, "{{") {
				return "want a resolved, non-empty value"
			}
			return ""
		}}
	}
	lines := []line{
		exact("arg=", w.greeting),
		exact("arg=count=", w.count),
		exact("arg=ratio=", w.ratio),
		exact("arg=flag=", w.flag),
		asJSON("arg=items=", w.items),
		asJSON("arg=conf=", w.conf),
		exact("arg=data_path=", data.URI),
		exact("arg=data_uri=", data.URI),
		asJSON("arg=data_metadata=", `{"kind": "demo", "size": 11}`),
		exact("arg=report_uri=", rep.URI),
		exact("arg=concat=", w.greeting+"+"+w.count),
		exact("arg=concat_ifpresent=", w.concatIfPresent),
	}
	for _, a := range w.ifPresent {
		lines = append(lines, exact("arg=", a))
	}
	lines = append(lines,
		resolved("arg=job_name="),
		exact("arg=job_id=", s.RunID),
		exact("arg=task_name=", w.task),
		resolved("arg=task_id="),
		exact("arg=root=", root),
		exact("argc=", fmt.Sprint(17+len(w.ifPresent))),
		exact("data_content=", "payload-123"),
		exact("env=", w.env),
	)

	got := strings.Split(strings.TrimSuffix(readFile(t, rep.URI), "\n"), "\n")
	seen := reportSeen{}
	for i, l := range lines {
		if i >= len(got) {
			t.Errorf("%s: report has %d lines, want %d; missing %q...", w.task, len(got), len(lines), l.prefix)
			break
		}
		g := got[i]
		if !strings.HasPrefix(g, l.prefix) {
			t.Errorf("%s: report line %d = %q, want prefix %q", w.task, i+1, g, l.prefix)
			continue
		}
		rest := strings.TrimPrefix(g, l.prefix)
		if msg := l.check(rest); msg != "" {
			t.Errorf("%s: report line %d = %q: %s", w.task, i+1, g, msg)
		}
		switch l.prefix {
		case "arg=job_name=":
			seen.jobName = rest
		case "arg=task_id=":
			seen.taskID = rest
		}
	}
	if len(got) > len(lines) {
		t.Errorf("%s: report has %d extra lines: %q", w.task, len(got)-len(lines), got[len(lines):])
	}
	return seen
}

func jsonEqual(a, b string) bool {
	ca, err1 := tryCanon(a)
	cb, err2 := tryCanon(b)
	return err1 == nil && err2 == nil && ca == cb
}

// TestContainerPlaceholders: every placeholder kind kfp emits for container
// components, env vars, an f-string embedding an upstream output, and
// IfPresent both present and absent; artifacts go under --pipeline-root.
func TestContainerPlaceholders(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	root := filepath.Join(t.TempDir(), "root")
	r, s := runJSON(t, home, pipelineFile(t, "container"), "--pipeline-root", root)
	mustSucceed(t, r, s, "make-name", "make-data", "report", "report-2", "report-3")

	wantOut(t, s.task(t, "make-name"), "name", `"world"`)
	mk := s.task(t, "make-data")
	wantJSON(t, "make-data data metadata", artifact(t, mk, mk.Outputs, "data").Metadata, `{"kind": "demo", "size": 11}`)
	wantIn(t, s.task(t, "report-2"), "greeting", `"hello world"`)
	wantIn(t, s.task(t, "report"), "count", `3`)

	seen := []reportSeen{
		checkReport(t, s, root, reportWant{
			task: "report", greeting: "hi there", count: "3", ratio: "0.5", flag: "true",
			items: `["a", "b c"]`, conf: `{"k": "v"}`, concatIfPresent: "sfx",
			ifPresent: []string{"--suffix", "sfx"},
			env:       "env value 1|second=2", textOut: "text-out:env value 1",
		}),
		checkReport(t, s, root, reportWant{
			task: "report-2", greeting: "hello world", count: "3", ratio: "0.5", flag: "false",
			items: `[]`, conf: `{}`, concatIfPresent: "none",
			ifPresent: []string{"--no-suffix"},
			env:       "env value 2|", textOut: "text-out:env value 2",
		}),
		checkReport(t, s, root, reportWant{
			task: "report-3", greeting: "third", count: "-1", ratio: "1.5", flag: "true",
			items: `[1.5]`, conf: `{"a": "b"}`, concatIfPresent: "none",
			ifPresent: []string{"--no-suffix"},
			env:       "|", textOut: "text-out:",
		}),
	}
	ids := map[string]bool{}
	for i, sn := range seen {
		if sn.jobName != seen[0].jobName {
			t.Errorf("PIPELINE_JOB_NAME differs between tasks of one run: %q vs %q", sn.jobName, seen[0].jobName)
		}
		if sn.taskID != "" && ids[sn.taskID] {
			t.Errorf("PIPELINE_TASK_ID %q is shared by two tasks (report #%d)", sn.taskID, i+1)
		}
		ids[sn.taskID] = true
	}
}

// TestContainerOptionalSupplied: an optional pipeline parameter without a
// default, once supplied, makes IfPresent take its then branch; overridden
// parameters reach the placeholders.
func TestContainerOptionalSupplied(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	root := filepath.Join(t.TempDir(), "root")
	r, s := runJSON(t, home, pipelineFile(t, "container"), "--pipeline-root", root,
		"-p", "maybe=given", "-p", "count=12", "-p", "greeting=x  y", "-p", "suffix=")
	mustSucceed(t, r, s, "make-name", "make-data", "report", "report-2", "report-3")

	// An empty string is still a present value.
	checkReport(t, s, root, reportWant{
		task: "report", greeting: "x  y", count: "12", ratio: "0.5", flag: "true",
		items: `["a", "b c"]`, conf: `{"k": "v"}`, concatIfPresent: "",
		ifPresent: []string{"--suffix", ""},
		env:       "env value 1|second=2", textOut: "text-out:env value 1",
	})
	checkReport(t, s, root, reportWant{
		task: "report-3", greeting: "third", count: "-1", ratio: "1.5", flag: "true",
		items: `[1.5]`, conf: `{"a": "b"}`, concatIfPresent: "given",
		ifPresent: []string{"--suffix", "given"},
		env:       "|", textOut: "text-out:",
	})
}

// TestContainerExecutorProtocol: typed OutputPath files are parsed by their
// declared type; an ExecutorOutput written to {{$.outputs.output_file}} sets
// a parameter and artifact metadata, which the consumer sees.
func TestContainerExecutorProtocol(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "container_extra"))
	mustSucceed(t, r, s, "typed-outputs", "check-types", "annotate", "read-meta")

	typed := s.task(t, "typed-outputs")
	wantOut(t, typed, "n", `42`)
	wantOut(t, typed, "ratio", `0.375`)
	wantOut(t, typed, "ok", `true`)
	wantOut(t, typed, "items", `[1, "two", {"three": 3}]`)
	wantOut(t, typed, "conf", `{"a": 1, "b": [true, null]}`)
	wantOut(t, typed, "text", `" spaced  text "`)

	wantOut(t, s.task(t, "check-types"), "Output", `{
		"n": ["int", 42], "ratio": ["float", 0.375], "ok": ["bool", true],
		"items": ["list", [1, "two", {"three": 3}]],
		"conf": ["dict", {"a": 1, "b": [true, null]}],
		"text": ["str", " spaced  text "]}`)

	an := s.task(t, "annotate")
	wantOut(t, an, "label", `"from-executor-output"`)
	out := artifact(t, an, an.Outputs, "out")
	wantArtifactURI(t, out, filepath.Join(home, "artifacts"), s, "annotate", "out")
	wantJSON(t, "annotate out metadata", out.Metadata, `{"stage": "annotated", "n": 2}`)
	if got := readFile(t, out.URI); got != "annotated body" {
		t.Errorf("annotate out file = %q, want %q", got, "annotated body")
	}

	rm := s.task(t, "read-meta")
	wantJSON(t, "read-meta input metadata", artifact(t, rm, rm.Inputs, "art").Metadata, `{"stage": "annotated", "n": 2}`)
	if meta := outString(t, rm, "meta"); !jsonEqual(meta, `{"stage": "annotated", "n": 2}`) {
		t.Errorf("{{$.inputs.artifacts['art'].metadata}} = %q, want the JSON object {\"stage\": \"annotated\", \"n\": 2}", meta)
	}
	wantOut(t, rm, "body", `"annotated body"`)
}

// TestContainerMetadataKey: {{$.inputs.artifacts['x'].metadata['key']}}
// renders a string value verbatim and other values as JSON.
func TestContainerMetadataKey(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "metadata_key"))
	mustSucceed(t, r, s, "tag", "read-keys")
	got := strings.SplitN(outString(t, s.task(t, "read-keys"), "got"), "|", 3)
	if len(got) != 3 || got[0] != "tagged" || got[1] != "2" || !jsonEqual(got[2], `["a", "b"]`) {
		t.Errorf("metadata['stage']|metadata['n']|metadata['labels'] = %q, want tagged, 2 and the JSON list [\"a\", \"b\"]", got)
	}
}
