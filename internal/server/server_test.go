package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/executor/local"
	"github.com/weir-dev/weir/internal/store"
)

// newTestServer starts a server on a fresh store with a running service.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(st, local.New(local.Options{WorkRoot: filepath.Join(home, "work")}), nil, engine.Config{Home: home})
	svc := engine.NewService(eng, st, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	ts := httptest.NewServer(New(st, svc, Config{PipelineRoot: filepath.Join(home, "artifacts")}))
	t.Cleanup(func() {
		ts.Close()
		cancel()
		<-done
		st.Close()
	})
	return ts
}

// A container-only pipeline (as the kfp compiler writes it).
const echoSpec = `
pipelineInfo: {name: echo}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
root:
  inputDefinitions:
    parameters:
      msg: {parameterType: STRING, defaultValue: hi}
      n: {parameterType: NUMBER_INTEGER, defaultValue: 1.0}
  dag:
    tasks:
      say:
        taskInfo: {name: say}
        componentRef: {name: comp-say}
        inputs:
          parameters:
            msg: {componentInputParameter: msg}
components:
  comp-say:
    executorLabel: exec-say
    inputDefinitions:
      parameters:
        msg: {parameterType: STRING}
    outputDefinitions:
      parameters:
        out: {parameterType: STRING}
deploymentSpec:
  executors:
    exec-say:
      container:
        image: alpine
        command: [sh, -c, 'printf "%s" "$0" > "$1"', "{{$.inputs.parameters['msg']}}", "{{$.outputs.parameters['out'].output_file}}"]
`

func upload(t *testing.T, ts *httptest.Server, name string, doc string) (*http.Response, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("uploadfile", "pipeline.yaml")
	io.WriteString(fw, doc)
	mw.Close()
	resp, err := http.Post(ts.URL+"/apis/v2beta1/pipelines/upload?name="+name, mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decode(t, resp)
}

func decode(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("response is not JSON: %v", err)
	}
	return m
}

func call(t *testing.T, method, url string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decode(t, resp)
}

func TestPipelineRunLifecycle(t *testing.T) {
	ts := newTestServer(t)
	resp, p := upload(t, ts, "echo", echoSpec)
	if resp.StatusCode != 200 || p["pipeline_id"] == "" || p["display_name"] != "echo" {
		t.Fatalf("upload: %d %v", resp.StatusCode, p)
	}
	pid := p["pipeline_id"].(string)
	if resp, _ := upload(t, ts, "echo", echoSpec); resp.StatusCode != http.StatusConflict {
		t.Errorf("duplicate name: %d, want 409", resp.StatusCode)
	}
	_, vs := call(t, "GET", ts.URL+"/apis/v2beta1/pipelines/"+pid+"/versions", nil)
	versions := vs["pipeline_versions"].([]any)
	if len(versions) != 1 {
		t.Fatalf("versions = %v", vs)
	}
	vid := versions[0].(map[string]any)["pipeline_version_id"].(string)

	resp, r := call(t, "POST", ts.URL+"/apis/v2beta1/runs", map[string]any{
		"display_name":               "r1",
		"pipeline_version_reference": map[string]any{"pipeline_id": pid, "pipeline_version_id": vid},
		"runtime_config":             map[string]any{"parameters": map[string]any{"msg": "from api", "n": 3}},
	})
	if resp.StatusCode != 200 {
		t.Fatalf("create run: %d %v", resp.StatusCode, r)
	}
	id := r["run_id"].(string)
	var got map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, got = call(t, "GET", ts.URL+"/apis/v2beta1/runs/"+id, nil)
		if got["state"] == "SUCCEEDED" || got["state"] == "FAILED" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got["state"] != "SUCCEEDED" {
		t.Fatalf("run = %v", got)
	}
	params := got["runtime_config"].(map[string]any)["parameters"].(map[string]any)
	if params["msg"] != "from api" || params["n"] != 3.0 {
		t.Errorf("parameters = %v", params)
	}
	tasks := got["run_details"].(map[string]any)["task_details"].([]any)
	if len(tasks) != 1 || tasks[0].(map[string]any)["display_name"] != "say" || tasks[0].(map[string]any)["state"] != "SUCCEEDED" {
		t.Errorf("task details = %v", tasks)
	}
	if got["experiment_id"] == "" {
		t.Error("run got no experiment (want the Default experiment)")
	}

	// Filter, sort and page.
	filter := `{"predicates":[{"operation":"EQUALS","key":"display_name","string_value":"r1"}]}`
	_, lr := call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+urlEncode(filter), nil)
	if lr["total_size"] != 1.0 {
		t.Errorf("filtered list = %v", lr)
	}
	_, lr = call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+urlEncode(`{"predicates":[{"operation":1,"key":"state","stringValue":"FAILED"}]}`), nil)
	if lr["total_size"] != 0.0 {
		t.Errorf("state filter = %v", lr)
	}
	if resp, e := call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+urlEncode(`{"predicates":[{"operation":1,"key":"nope","stringValue":"x"}]}`), nil); resp.StatusCode != 400 || e["code"] != 3.0 {
		t.Errorf("unknown filter key: %d %v", resp.StatusCode, e)
	}
}

func TestBadRequestsAreRejected(t *testing.T) {
	ts := newTestServer(t)
	resp, e := upload(t, ts, "broken", strings.Replace(echoSpec, "{name: comp-say}", "{name: comp-nope}", 1))
	if resp.StatusCode != 400 || !strings.Contains(e["message"].(string), "root.dag.tasks.say.componentRef.name") {
		t.Errorf("invalid upload: %d %v", resp.StatusCode, e)
	}
	_, list := call(t, "GET", ts.URL+"/apis/v2beta1/pipelines", nil)
	if list["total_size"] != 0.0 {
		t.Errorf("an invalid upload was stored: %v", list)
	}
	resp, e = call(t, "POST", ts.URL+"/apis/v2beta1/runs", map[string]any{"display_name": "x", "bogus_field": 1})
	if resp.StatusCode != 400 || !strings.Contains(e["message"].(string), "bogus_field") {
		t.Errorf("unknown field: %d %v", resp.StatusCode, e)
	}
	resp, e = call(t, "POST", ts.URL+"/apis/v2beta1/runs", map[string]any{"pipeline_spec": json.RawMessage(mustJSON(t, echoSpec)),
		"runtime_config": map[string]any{"parameters": map[string]any{"n": "abc"}}})
	if resp.StatusCode != 400 || !strings.Contains(e["message"].(string), "parameter n") {
		t.Errorf("bad parameter: %d %v", resp.StatusCode, e)
	}
	resp, e = call(t, "GET", ts.URL+"/apis/v2beta1/runs/no-such-run", nil)
	if resp.StatusCode != 404 || e["code"] != 5.0 {
		t.Errorf("missing run: %d %v", resp.StatusCode, e)
	}
	for _, root := range []string{"s3://bucket/x", "/etc/weir-outside", "relative/dir"} {
		resp, e = call(t, "POST", ts.URL+"/apis/v2beta1/runs", map[string]any{"pipeline_spec": json.RawMessage(mustJSON(t, echoSpec)),
			"runtime_config": map[string]any{"pipeline_root": root}})
		if resp.StatusCode != 400 || !strings.Contains(e["message"].(string), "pipeline_root") {
			t.Errorf("pipeline root %s: %d %v", root, resp.StatusCode, e)
		}
	}
}

func mustJSON(t *testing.T, yamlDoc string) []byte {
	t.Helper()
	b, err := specDocJSON([]byte(yamlDoc))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func urlEncode(s string) string {
	r := strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", "\"", "%22", ":", "%3A", ",", "%2C", "[", "%5B", "]", "%5D", " ", "%20")
	return r.Replace(s)
}

func TestRetryFailedRun(t *testing.T) {
	ts := newTestServer(t)
	dir := t.TempDir()
	// The step fails until a marker file exists.
	doc := strings.Replace(echoSpec, `command: [sh, -c, 'printf "%s" "$0" > "$1"',`, `command: [sh, -c, 'test -f `+dir+`/ok || exit 5; printf "%s" "$0" > "$1"',`, 1)
	resp, r := call(t, "POST", ts.URL+"/apis/v2beta1/runs", map[string]any{"display_name": "flaky", "pipeline_spec": json.RawMessage(mustJSON(t, doc))})
	if resp.StatusCode != 200 {
		t.Fatalf("create: %v", r)
	}
	id := r["run_id"].(string)
	if got := waitState(t, ts, id); got["state"] != "FAILED" {
		t.Fatalf("first run = %v", got["state"])
	}
	if err := os.WriteFile(filepath.Join(dir, "ok"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, e := call(t, "POST", ts.URL+"/apis/v2beta1/runs/"+id+":retry", nil); resp.StatusCode != 200 {
		t.Fatalf("retry: %d %v", resp.StatusCode, e)
	}
	if got := waitState(t, ts, id); got["state"] != "SUCCEEDED" {
		t.Fatalf("retried run = %v", got["state"])
	}
	if resp, _ := call(t, "POST", ts.URL+"/apis/v2beta1/runs/"+id+":retry", nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("retrying a succeeded run: %d, want 409", resp.StatusCode)
	}
}

func waitState(t *testing.T, ts *httptest.Server, id string) map[string]any {
	t.Helper()
	var got map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, got = call(t, "GET", ts.URL+"/apis/v2beta1/runs/"+id, nil)
		if s := got["state"]; s == "SUCCEEDED" || s == "FAILED" || s == "CANCELED" {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("run %s did not end: %v", id, got)
	return nil
}

func TestRecurringRunFiresAndStops(t *testing.T) {
	ts := newTestServer(t)
	resp, rr := call(t, "POST", ts.URL+"/apis/v2beta1/recurringruns", map[string]any{
		"display_name": "every-second", "pipeline_spec": json.RawMessage(mustJSON(t, echoSpec)),
		"trigger":         map[string]any{"periodic_schedule": map[string]any{"interval_second": "1"}},
		"max_concurrency": "2", "no_catchup": true, "mode": "ENABLE",
	})
	if resp.StatusCode != 200 || rr["status"] != "ENABLED" {
		t.Fatalf("create recurring run: %d %v", resp.StatusCode, rr)
	}
	id := rr["recurring_run_id"].(string)
	filter := urlEncode(`{"predicates":[{"operation":"EQUALS","key":"recurring_run_id","string_value":"` + id + `"}]}`)
	deadline := time.Now().Add(15 * time.Second)
	var runs map[string]any
	for time.Now().Before(deadline) {
		_, runs = call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+filter, nil)
		if runs["total_size"].(float64) >= 2 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if runs["total_size"].(float64) < 2 {
		t.Fatalf("recurring run fired %v times in 15 s, want >= 2", runs["total_size"])
	}
	if resp, _ := call(t, "POST", ts.URL+"/apis/v2beta1/recurringruns/"+id+":disable", nil); resp.StatusCode != 200 {
		t.Fatal("disable failed")
	}
	_, got := call(t, "GET", ts.URL+"/apis/v2beta1/recurringruns/"+id, nil)
	if got["status"] != "DISABLED" {
		t.Errorf("status after disable = %v", got["status"])
	}
	time.Sleep(300 * time.Millisecond)
	_, runs = call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+filter, nil)
	n := runs["total_size"].(float64)
	time.Sleep(2500 * time.Millisecond)
	_, runs = call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+filter, nil)
	if runs["total_size"].(float64) != n {
		t.Errorf("disabled schedule kept firing: %v -> %v runs", n, runs["total_size"])
	}
	resp, e := call(t, "POST", ts.URL+"/apis/v2beta1/recurringruns", map[string]any{
		"display_name": "bad", "pipeline_spec": json.RawMessage(mustJSON(t, echoSpec)),
		"trigger": map[string]any{"cron_schedule": map[string]any{"cron": "every tuesday"}},
	})
	if resp.StatusCode != 400 || !strings.Contains(e["message"].(string), "cron") {
		t.Errorf("bad cron: %d %v", resp.StatusCode, e)
	}
}

func TestAuthTokenAndMetrics(t *testing.T) {
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, local.New(local.Options{WorkRoot: filepath.Join(home, "work")}), nil, engine.Config{Home: home})
	svc := engine.NewService(eng, st, 0, nil)
	ts := httptest.NewServer(New(st, svc, Config{PipelineRoot: home, AuthToken: "tok"}))
	defer ts.Close()
	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, tok := range []string{"", "wrong"} {
		resp := get("/apis/v2beta1/runs", tok)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", tok, resp.StatusCode)
		}
	}
	resp := get("/apis/v2beta1/runs", "tok")
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("right token: %d", resp.StatusCode)
	}
	resp = get("/metrics", "tok")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`weir_runs{state="pending"} 0`, `weir_task_runs{state="succeeded"} 0`, "weir_run_queue_depth 0",
		`weir_api_request_duration_seconds_count{code="200",route="GET /apis/v2beta1/runs"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestRequestBodyLimit(t *testing.T) {
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, local.New(local.Options{WorkRoot: home}), nil, engine.Config{Home: home})
	ts := httptest.NewServer(New(st, engine.NewService(eng, st, 0, nil), Config{PipelineRoot: home, MaxBodyBytes: 1024}))
	defer ts.Close()
	resp, e := upload(t, ts, "big", echoSpec+strings.Repeat("# padding\n", 500))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized upload: %d %v", resp.StatusCode, e)
	}
}

func TestUnknownEndpointAndBadFilterAreStatusBodies(t *testing.T) {
	ts := newTestServer(t)
	resp, e := call(t, "GET", ts.URL+"/apis/v2beta1/nothing-here", nil)
	if resp.StatusCode != 404 || e["code"] != 5.0 {
		t.Errorf("unknown endpoint: %d %v", resp.StatusCode, e)
	}
	bad := urlEncode(`{"predicates":[{"operation":"EQUALS","key":"display_name","string_values":{"values":["a","b"]}}]}`)
	resp, e = call(t, "GET", ts.URL+"/apis/v2beta1/runs?filter="+bad, nil)
	if resp.StatusCode != 400 || e["code"] != 3.0 {
		t.Errorf("EQUALS with two values: %d %v", resp.StatusCode, e)
	}
}
