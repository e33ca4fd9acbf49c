package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/executor/local"
	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/store"
)

// weirEnv is a server whose engine reports to its event streams.
type weirEnv struct {
	ts   *httptest.Server
	srv  *Server
	st   *store.Store
	base string // a scratch directory; home lies inside it
	home string
}

// newWeirEnv starts a server; tune adjusts weir's knobs before it serves.
func newWeirEnv(t *testing.T, tune ...func(*weirState)) *weirEnv {
	t.Helper()
	base := t.TempDir()
	home := filepath.Join(base, "home")
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	var srv *Server
	eng := engine.New(st, local.New(local.Options{WorkRoot: filepath.Join(home, "work")}), nil,
		engine.Config{Home: home, Observe: func(ev engine.Event) { srv.Observe(ev) }})
	svc := engine.NewService(eng, st, 0, nil)
	srv = New(st, svc, Config{PipelineRoot: filepath.Join(home, "artifacts"), ArtifactRoots: []string{home}})
	srv.cfg.weir.logPoll = 20 * time.Millisecond
	for _, f := range tune {
		f(srv.cfg.weir)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.CloseStreams()
		ts.Close()
		cancel()
		<-done
		st.Close()
	})
	return &weirEnv{ts: ts, srv: srv, st: st, base: base, home: home}
}

// submit starts a run of a pipeline document and returns its id.
func (e *weirEnv) submit(t *testing.T, doc string) string {
	t.Helper()
	resp, r := call(t, "POST", e.ts.URL+"/apis/v2beta1/runs", map[string]any{"display_name": "t",
		"pipeline_spec": json.RawMessage(mustJSON(t, doc))})
	if resp.StatusCode != 200 {
		t.Fatalf("create run: %d %v", resp.StatusCode, r)
	}
	return r["run_id"].(string)
}

// summary fetches weir's run summary.
func (e *weirEnv) summary(t *testing.T, id string) *report.Run {
	t.Helper()
	resp, err := http.Get(e.ts.URL + weirAPI + "/runs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("summary of %s: %d %s", id, resp.StatusCode, b)
	}
	var sum report.Run
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
		t.Fatal(err)
	}
	return &sum
}

// wait polls the summary until the run ends.
func (e *weirEnv) wait(t *testing.T, id string) *report.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s := e.summary(t, id); s.State.Terminal() {
			return s
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("run %s did not end", id)
	return nil
}

func weirGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	return getWith(t, url, "")
}

func weirGetJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, b := weirGet(t, url)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: not JSON (%d): %s", url, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// slowSpec prints a line every 200ms, five times.
const slowSpec = `
pipelineInfo: {name: slow}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
root:
  dag:
    tasks:
      talk:
        taskInfo: {name: talk}
        componentRef: {name: comp-talk}
components:
  comp-talk:
    executorLabel: exec-talk
deploymentSpec:
  executors:
    exec-talk:
      container:
        image: alpine
        command: [sh, -c, 'for i in 1 2 3 4 5; do echo "line $i"; sleep 0.2; done']
`

func TestRunSummaryIsTheReport(t *testing.T) {
	e := newWeirEnv(t)
	id := e.submit(t, echoSpec)
	e.wait(t, id)
	_, got := weirGet(t, e.ts.URL+weirAPI+"/runs/"+id)
	snap, err := e.st.Snapshot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(report.Summarize(snap))
	if strings.TrimSpace(string(got)) != string(want) {
		t.Errorf("summary differs from report.Summarize:\n got %s\nwant %s", got, want)
	}
	if code, m := weirGetJSON(t, e.ts.URL+weirAPI+"/runs/nope"); code != 404 || m["code"] != 5.0 {
		t.Errorf("unknown run: %d %v", code, m)
	}
}

func TestTaskLogsFollowARunningAttempt(t *testing.T) {
	e := newWeirEnv(t)
	id := e.submit(t, slowSpec)
	// Wait for the attempt to start.
	deadline := time.Now().Add(20 * time.Second)
	for s := e.summary(t, id); len(s.Tasks) == 0 || s.Tasks[0].Attempts == 0; s = e.summary(t, id) {
		if time.Now().After(deadline) {
			t.Fatalf("talk never started: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(e.ts.URL + weirAPI + "/runs/" + id + "/tasks/talk/logs?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "line 1\n" {
		t.Fatalf("first line %q, %v", first, err)
	}
	// The first line arrives while the attempt still runs.
	if s := e.summary(t, id); s.Tasks[0].State != "running" {
		t.Errorf("first line came only after the end (talk is %s)", s.Tasks[0].State)
	}
	rest, err := io.ReadAll(br) // ends when the attempt has ended
	if err != nil {
		t.Fatal(err)
	}
	if got := first + string(rest); got != "line 1\nline 2\nline 3\nline 4\nline 5\n" {
		t.Errorf("followed log = %q", got)
	}
	if s := e.summary(t, id); s.Tasks[0].Attempt[0].State != "succeeded" {
		t.Errorf("stream ended before the attempt: %+v", s.Tasks[0])
	}

	// Plain reads, by attempt number.
	if resp, b := weirGet(t, e.ts.URL+weirAPI+"/runs/"+id+"/tasks/talk/logs?attempt=1"); resp.StatusCode != 200 || !strings.HasSuffix(string(b), "line 5\n") {
		t.Errorf("attempt 1 logs: %d %q", resp.StatusCode, b)
	}
	for _, path := range []string{"/runs/" + id + "/tasks/talk/logs?attempt=2", "/runs/" + id + "/tasks/nope/logs", "/runs/nope/tasks/talk/logs", "/runs/" + id + "/tasks/talk/nologs"} {
		if code, m := weirGetJSON(t, e.ts.URL+weirAPI+path); code != 404 {
			t.Errorf("GET %s: %d %v, want 404", path, code, m)
		}
	}
	if code, _ := weirGetJSON(t, e.ts.URL+weirAPI+"/runs/"+id+"/tasks/talk/logs?attempt=x"); code != 400 {
		t.Errorf("bad attempt: %d, want 400", code)
	}
}

func weirJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitSpec runs "talk" after "first", which sleeps.
const waitSpec = `
pipelineInfo: {name: wait}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
root:
  dag:
    tasks:
      first:
        taskInfo: {name: first}
        componentRef: {name: comp-first}
      talk:
        taskInfo: {name: talk}
        componentRef: {name: comp-talk}
        dependentTasks: [first]
components:
  comp-first:
    executorLabel: exec-first
  comp-talk:
    executorLabel: exec-talk
deploymentSpec:
  executors:
    exec-first:
      container:
        image: alpine
        command: [sh, -c, 'sleep 0.5']
    exec-talk:
      container:
        image: alpine
        command: [sh, -c, 'echo hello; sleep 0.1; echo bye']
`

func TestTaskLogsFollowWaitsForTheTaskToStart(t *testing.T) {
	e := newWeirEnv(t)
	id := e.submit(t, waitSpec)
	deadline := time.Now().Add(20 * time.Second)
	for len(e.summary(t, id).Tasks) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the run never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := e.summary(t, id); s.Tasks[1].Name != "talk" || s.Tasks[1].State != "pending" {
		t.Fatalf("talk is not pending: %+v", s.Tasks[1])
	}
	resp, body := weirGet(t, e.ts.URL+weirAPI+"/runs/"+id+"/tasks/talk/logs?follow=1")
	if resp.StatusCode != 200 || string(body) != "hello\nbye\n" {
		t.Errorf("followed a pending task: %d %q", resp.StatusCode, body)
	}
	// Without follow, a task that has not run has no logs.
	id = e.submit(t, waitSpec)
	for len(e.summary(t, id).Tasks) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	if code, m := weirGetJSON(t, e.ts.URL+weirAPI+"/runs/"+id+"/tasks/talk/logs"); code != 404 {
		t.Errorf("logs of a pending task: %d %v", code, m)
	}
}
