package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/executor/local"
	"github.com/weir-dev/weir/internal/server"
	"github.com/weir-dev/weir/internal/store"
)

// testServer is a real weir server (engine, local executor, SQLite) on a
// home of its own; it records the Authorization headers it receives.
type testServer struct {
	url  string
	home string
	mu   sync.Mutex
	auth []string
}

func newClientTestServer(t *testing.T) *testServer {
	t.Helper()
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	var srv *server.Server
	eng := engine.New(st, local.New(local.Options{WorkRoot: filepath.Join(home, "work")}), nil,
		engine.Config{Home: home, Observe: func(ev engine.Event) { srv.Observe(ev) }})
	svc := engine.NewService(eng, st, 0, nil)
	srv = server.New(st, svc, server.Config{PipelineRoot: filepath.Join(home, "artifacts"), ArtifactRoots: []string{home}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	s := &testServer{home: home}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	s.url = ts.URL
	t.Cleanup(func() {
		srv.CloseStreams()
		ts.Close()
		cancel()
		<-done
		st.Close()
	})
	return s
}

// slowPipeline runs until it is terminated.
const slowPipeline = `
pipelineInfo: {name: slow}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
root:
  dag:
    tasks:
      nap:
        taskInfo: {name: nap}
        componentRef: {name: comp-nap}
components:
  comp-nap:
    executorLabel: exec-nap
deploymentSpec:
  executors:
    exec-nap:
      container:
        image: alpine
        command: [sh, -c, 'echo napping; sleep 60']
`

func jsonField(t *testing.T, out, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	s, _ := m[field].(string)
	if s == "" {
		t.Fatalf("no %s in %s", field, out)
	}
	return s
}

func TestClientAgainstAServer(t *testing.T) {
	srv := newClientTestServer(t)
	home := t.TempDir() // the client's own WEIR_HOME stays empty
	remote := func(args ...string) (int, string, string) {
		t.Helper()
		return weir(t, home, append(args, "--server", srv.url)...)
	}

	// Pipelines and experiments.
	code, out, errOut := remote("pipelines", "upload", pipeline, "--name", "cli", "-o", "json")
	if code != 0 {
		t.Fatalf("upload: exit %d %s %s", code, out, errOut)
	}
	pid := jsonField(t, out, "pipeline_id")
	if code, out, _ = remote("pipelines", "list"); code != 0 || !strings.Contains(out, pid) || !strings.Contains(out, "cli") {
		t.Errorf("pipelines list: exit %d\n%s", code, out)
	}
	if code, out, _ = remote("pipelines", "get", "cli"); code != 0 || !strings.Contains(out, "pipeline "+pid+" (cli)") || !strings.Contains(out, "VERSION") {
		t.Errorf("pipelines get by name: exit %d\n%s", code, out)
	}
	if code, out, _ = remote("experiments", "create", "exp1"); code != 0 || !strings.Contains(out, "(exp1) created") {
		t.Errorf("experiments create: exit %d\n%s", code, out)
	}
	if code, out, _ = remote("experiments", "list"); code != 0 || !strings.Contains(out, "exp1") {
		t.Errorf("experiments list: exit %d\n%s", code, out)
	}

	// A run of the uploaded pipeline, watched to its end.
	code, out, errOut = remote("runs", "submit", "--pipeline", pid, "-p", "msg=yo", "--experiment", "exp1", "--name", "r1", "-o", "json")
	if code != 0 {
		t.Fatalf("submit: exit %d %s %s", code, out, errOut)
	}
	id := jsonField(t, out, "run_id")
	code, out, errOut = remote("runs", "watch", id)
	if code != 0 || !strings.Contains(out, "say-2 succeeded") || !strings.Contains(out, "run "+id+" succeeded") {
		t.Errorf("watch: exit %d\n%s%s", code, out, errOut)
	}

	// runs get -o json from the server is byte for byte what the local
	// command prints from the server's WEIR_HOME.
	t.Setenv("WEIR_SERVER", srv.url)
	code, viaServer, _ := weir(t, home, "runs", "get", id[:13], "-o", "json")
	t.Setenv("WEIR_SERVER", "")
	_, locally, _ := weir(t, srv.home, "runs", "get", id, "-o", "json")
	if code != 0 || viaServer != locally {
		t.Errorf("runs get -o json differs:\nserver: %s\nlocal:  %s", viaServer, locally)
	}
	if sum := decodeSummary(t, viaServer); task(t, sum, "say-2").Outputs.Parameters["out"] != "yo/2/2" {
		t.Errorf("say-2 = %+v", task(t, sum, "say-2"))
	}
	if code, out, _ = remote("runs", "get", id); code != 0 || !strings.Contains(out, "run "+id+" (r1)") || !strings.Contains(out, "say-2") {
		t.Errorf("runs get (text): exit %d\n%s", code, out)
	}
	if code, out, _ = remote("runs", "list"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "succeeded") {
		t.Errorf("runs list: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"logs", id, "say"}, {"runs", "logs", id, "say", "-f"}} {
		if code, out, errOut = remote(args...); code != 0 || strings.TrimSpace(out) != "said yo x2" {
			t.Errorf("%v: exit %d %q %s", args, code, out, errOut)
		}
	}

	// A failing run of a file: watch exits 1.
	code, out, _ = remote("runs", "submit", pipeline, "-p", "code=3")
	if code != 0 || !strings.HasPrefix(out, "run ") {
		t.Fatalf("submit file: exit %d %s", code, out)
	}
	failed := strings.Fields(out)[1]
	if code, out, _ = remote("runs", "watch", failed); code != 1 || !strings.Contains(out, "maybe-fail failed (exit 3)") {
		t.Errorf("watch of a failing run: exit %d\n%s", code, out)
	}

	// Terminate a run that would run for a minute.
	slow := filepath.Join(t.TempDir(), "slow.yaml")
	if err := os.WriteFile(slow, []byte(slowPipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	_, out, _ = remote("runs", "submit", slow, "-o", "json")
	napping := jsonField(t, out, "run_id")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, out, _ := remote("runs", "get", napping, "-o", "json")
		if sum := decodeSummary(t, out); len(sum.Tasks) > 0 && sum.Tasks[0].Attempts > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nap never started: %s", out)
		}
	}
	// Wait until it has printed (its attempt is recorded before the process
	// starts), then follow its log while it runs; the follow ends with the
	// attempt.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, out, _ := remote("runs", "logs", napping, "nap"); strings.Contains(out, "napping") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nap never printed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var followOut, followErr bytes.Buffer
	followed := make(chan int)
	go func() {
		followed <- Main([]string{"runs", "logs", napping, "nap", "-f", "--server", srv.url}, strings.NewReader(""), &followOut, &followErr)
	}()
	if code, out, errOut = remote("runs", "terminate", napping[:13]); code != 0 || !strings.Contains(out, napping) {
		t.Errorf("terminate: exit %d %s %s", code, out, errOut)
	}
	select {
	case code := <-followed:
		if code != 0 || followOut.String() != "napping\n" {
			t.Errorf("logs -f: exit %d %q %s", code, followOut.String(), followErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Error("logs -f did not end with the attempt")
	}
	if code, out, _ = remote("runs", "watch", napping); code != 1 || !strings.Contains(out, "canceled") {
		t.Errorf("watch of a terminated run: exit %d\n%s", code, out)
	}
}

func TestClientErrorsAndToken(t *testing.T) {
	srv := newClientTestServer(t)
	home := t.TempDir()
	t.Setenv("WEIR_SERVER", srv.url)
	t.Setenv("WEIR_TOKEN", "s3cret")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"runs", "get", "no-such-run"}, 1, "error: run no-such-run: not found"},
		{[]string{"runs", "submit", pipeline, "-p", "n=abc"}, 2, "parameter n"},
		{[]string{"runs", "submit", "--pipeline", "nope"}, 1, "error: "},
		{[]string{"runs", "submit"}, 2, "FILE or --pipeline"},
		{[]string{"runs", "watch", "no-such-run"}, 1, "not found"},
		{[]string{"logs", "no-such-run", "say"}, 1, "not found"},
		{[]string{"experiments", "create", " "}, 2, "experiment name is empty"},
	}
	for _, c := range cases {
		code, _, errOut := weir(t, home, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, a := range srv.auth {
		if a != "Bearer s3cret" {
			t.Errorf("Authorization = %q", a)
		}
	}
	if len(srv.auth) == 0 {
		t.Error("no request reached the server")
	}

	// Without a server, server-only commands say what they need, and the
	// local ones keep reading WEIR_HOME.
	t.Setenv("WEIR_SERVER", "")
	if code, _, errOut := weir(t, home, "pipelines", "list"); code != 2 || !strings.Contains(errOut, "--server") {
		t.Errorf("pipelines list without a server: exit %d %s", code, errOut)
	}
	if code, out, _ := weir(t, home, "runs", "list"); code != 0 || !strings.Contains(out, "RUN") {
		t.Errorf("local runs list: exit %d %s", code, out)
	}
	if code, _, errOut := weir(t, home, "runs", "list", "--server", "ftp://x"); code != 2 || !strings.Contains(errOut, "--server") {
		t.Errorf("bad --server: exit %d %s", code, errOut)
	}
}
