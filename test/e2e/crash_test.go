//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServerSurvivesKill9 submits several runs, SIGKILLs the server at
// random moments several times, restarts it each time, and then checks
// that every run finished, that no recorded success ran again, that lost
// attempts were recorded as interrupted and retried, that two attempts of a
// task never ran at the same time, and that every recorded artifact is
// whole.
func TestServerSurvivesKill9(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	addr := freePort(t)
	s := startServer(t, home, addr)

	vid := uploadForCrash(t, s.URL, compiled["server_crash"])
	const runs = 6
	dirs := map[string]string{}
	for i := 0; i < runs; i++ {
		dir := t.TempDir()
		body := map[string]any{
			"display_name":               fmt.Sprintf("crash-%d", i),
			"pipeline_version_reference": map[string]any{"pipeline_version_id": vid},
			"runtime_config":             map[string]any{"parameters": map[string]any{"dir": dir}},
		}
		var out map[string]any
		apiCall(t, "POST", s.URL+"/apis/v2beta1/runs", body, &out)
		dirs[out["run_id"].(string)] = dir
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for kill := 0; kill < 4; kill++ {
		time.Sleep(time.Duration(150+rng.Intn(900)) * time.Millisecond)
		if err := s.Kill(); err != nil {
			t.Fatal(err)
		}
		s = startServer(t, home, addr)
	}

	deadline := time.Now().Add(4 * time.Minute)
	for id := range dirs {
		for {
			var r map[string]any
			apiCall(t, "GET", s.URL+"/apis/v2beta1/runs/"+id, nil, &r)
			if st := r["state"]; st == "SUCCEEDED" || st == "FAILED" || st == "CANCELED" {
				if st != "SUCCEEDED" {
					t.Errorf("run %s ended %v: %v", id, st, r["error"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %s still %v after the crashes; server log:\n%s", id, r["state"], readFile(t, filepath.Join(home, "server.log")))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	s.Stop()

	for id, dir := range dirs {
		res := weir(t, home, "runs", "get", id, "-o", "json")
		sum := decodeSummary(t, res)
		for _, task := range []string{"first", "step", "step-2", "step-3"} {
			tk := sum.task(t, task)
			succeeded := 0
			for _, a := range tk.AttemptHistory {
				switch {
				case a.State == "succeeded":
					succeeded++
				case a.State == "failed" && strings.HasPrefix(a.Error, "interrupted: "):
				default:
					t.Errorf("run %s task %s: attempt %d %s %q (want succeeded, or failed as interrupted)", id, task, a.Number, a.State, a.Error)
				}
			}
			if succeeded != 1 || tk.AttemptHistory[len(tk.AttemptHistory)-1].State != "succeeded" {
				t.Errorf("run %s task %s: %d succeeded attempts, the last %s; want exactly one, the last", id, task, succeeded, tk.AttemptHistory[len(tk.AttemptHistory)-1].State)
			}
		}
		// Attempts of a task never overlapped, and every started process
		// belonged to a recorded attempt.
		for _, name := range []string{"first", "second", "third", "fourth"} {
			spans := readSpans(t, filepath.Join(dir, name+".log"))
			for i := 1; i < len(spans); i++ {
				if spans[i][0] < spans[i-1][1] {
					t.Errorf("run %s: two attempts of %s overlapped: %v", id, name, spans)
				}
			}
		}
		// The last artifact holds every step's whole output, in order.
		last := sum.task(t, "step-3").Outputs.Artifacts["out"]
		if len(last) != 1 {
			t.Fatalf("run %s: no output artifact on the last step", id)
		}
		if got := readFile(t, last[0].Path); got != "[first:done][second:done][third:done][fourth:done]" {
			t.Errorf("run %s: final artifact %q", id, got)
		}
	}
}

// readSpans reads "start T" / "end T" lines into [start, end] pairs; a start
// without an end (a process stopped as an orphan) ends at the next start.
func readSpans(t *testing.T, path string) [][2]float64 {
	t.Helper()
	var spans [][2]float64
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, path)), "\n") {
		kind, ts, ok := strings.Cut(line, " ")
		v, err := strconv.ParseFloat(ts, 64)
		if !ok || err != nil {
			continue
		}
		if kind == "start" {
			spans = append(spans, [2]float64{v, v})
		} else if len(spans) > 0 {
			spans[len(spans)-1][1] = v
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	return spans
}

func uploadForCrash(t *testing.T, base, file string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("uploadfile", "crash.yaml")
	fw.Write([]byte(readFile(t, file)))
	mw.Close()
	resp, err := http.Post(base+"/apis/v2beta1/pipelines/upload?name=crash", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	decodeResp(t, resp, &p)
	var vs map[string]any
	apiCall(t, "GET", base+"/apis/v2beta1/pipelines/"+p["pipeline_id"].(string)+"/versions", nil, &vs)
	return vs["pipeline_versions"].([]any)[0].(map[string]any)["pipeline_version_id"].(string)
}

func apiCall(t *testing.T, method, url string, body, out any) {
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
		t.Fatalf("%s %s: %v", method, url, err)
	}
	decodeResp(t, resp, out)
}

func decodeResp(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", resp.Request.URL, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v: %s", resp.Request.URL, err, b)
	}
}
