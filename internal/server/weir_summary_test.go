package server

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/report"
)

// graphResponse is the part of ?view=graph the tests read.
type graphResponse struct {
	RunID string      `json:"run_id"`
	State string      `json:"state"`
	Tasks []graphTask `json:"tasks"`
	Run   struct {
		RunID        string          `json:"run_id"`
		StorageState string          `json:"storage_state"`
		State        string          `json:"state"`
		RunDetails   json.RawMessage `json:"run_details"`
		PipelineSpec json.RawMessage `json:"pipeline_spec"`
	} `json:"run"`
	Spec struct {
		PipelineInfo struct {
			Name string `json:"name"`
		} `json:"pipelineInfo"`
	} `json:"pipeline_spec"`
}

func getWith(t *testing.T, url, ifNoneMatch string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestRunGraphView(t *testing.T) {
	e := newWeirEnv(t)
	id := e.submit(t, waitSpec)
	full := e.wait(t, id)
	url := e.ts.URL + weirAPI + "/runs/" + id + "?view=graph"
	resp, body := getWith(t, url, "")
	if resp.StatusCode != 200 {
		t.Fatalf("graph: %d %s", resp.StatusCode, body)
	}
	var g graphResponse
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if g.RunID != id || g.State != "succeeded" || g.Run.RunID != id || g.Run.State != "SUCCEEDED" || g.Spec.PipelineInfo.Name != "wait" {
		t.Errorf("graph of %s: %s", id, body)
	}
	if g.Run.RunDetails != nil || g.Run.PipelineSpec != nil {
		t.Errorf("the graph's run carries task details or a second spec: %s", body)
	}
	// The same tasks as the summary, in the same order, in brief.
	var want []graphTask
	for _, tk := range full.Tasks {
		want = append(want, graphTask{Name: tk.Name, Kind: tk.Kind, State: tk.State, Attempts: tk.Attempts, Error: tk.Error})
	}
	if weirJSON(g.Tasks) != weirJSON(want) {
		t.Errorf("graph tasks = %s, want %s", weirJSON(g.Tasks), weirJSON(want))
	}
	if strings.Contains(string(body), `"inputs"`) || strings.Contains(string(body), `"attempt_history"`) {
		t.Errorf("the graph carries task details: %s", body)
	}

	// An ended run's graph is revalidated from its record.
	tag := resp.Header.Get("ETag")
	if tag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("an ended run's graph has no ETag (%q) or Cache-Control (%q)", tag, resp.Header.Get("Cache-Control"))
	}
	if resp, body := getWith(t, url, tag); resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("ETag") != tag {
		t.Errorf("If-None-Match %s: %d %q %q", tag, resp.StatusCode, resp.Header.Get("ETag"), body)
	}
	if resp, _ := getWith(t, url, `"other", W/`+tag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("a list with the tag: %d, want 304", resp.StatusCode)
	}
	if resp, _ := getWith(t, url, `"other"`); resp.StatusCode != 200 {
		t.Errorf("another tag: %d, want 200", resp.StatusCode)
	}
	// Archiving changes what the graph says of the run: a new tag.
	if resp, m := call(t, "POST", e.ts.URL+"/apis/v2beta1/runs/"+id+":archive", nil); resp.StatusCode != 200 {
		t.Fatalf("archive: %d %v", resp.StatusCode, m)
	}
	resp, body = getWith(t, url, tag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == tag || !strings.Contains(string(body), `"storage_state":"ARCHIVED"`) {
		t.Errorf("archived run with the old tag: %d %q %s", resp.StatusCode, resp.Header.Get("ETag"), body)
	}

	for path, code := range map[string]int{
		"/runs/" + id + "?view=nope":            400,
		"/runs/" + id + "?view=graph&task=talk": 400,
		"/runs/nope?view=graph":                 404,
	} {
		if got, m := weirGetJSON(t, e.ts.URL+weirAPI+path); got != code {
			t.Errorf("GET %s: %d %v, want %d", path, got, m, code)
		}
	}
}

func TestRunGraphOfARunningRunHasNoETag(t *testing.T) {
	e := newWeirEnv(t)
	id := e.submit(t, slowSpec)
	resp, body := getWith(t, e.ts.URL+weirAPI+"/runs/"+id+"?view=graph", "")
	if resp.StatusCode != 200 {
		t.Fatalf("graph: %d %s", resp.StatusCode, body)
	}
	var g graphResponse
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	if g.State == "succeeded" {
		t.Skip("the run ended before it was asked for")
	}
	if tag := resp.Header.Get("ETag"); tag != "" {
		t.Errorf("a run that goes on has an ETag %s", tag)
	}
	e.wait(t, id)
}

func TestRunTaskDetails(t *testing.T) {
	e := newWeirEnv(t)
	id := e.submit(t, artsSpec)
	full := e.wait(t, id)
	snap, err := e.st.Snapshot(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range [][]string{{"use"}, {"make", "use"}, {"use", "nope"}, {"nope"}} {
		q := ""
		for i, n := range names {
			if i > 0 {
				q += "&"
			}
			q += "task=" + n
		}
		resp, body := weirGet(t, e.ts.URL+weirAPI+"/runs/"+id+"?"+q)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
		var got struct {
			RunID string `json:"run_id"`
			Tasks []struct {
				report.Task
				CreatedAt  string `json:"created_at"`
				StartedAt  string `json:"started_at"`
				FinishedAt string `json:"finished_at"`
			} `json:"tasks"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		var want []report.Task
		for _, tk := range full.Tasks {
			if slices.Contains(names, tk.Name) {
				want = append(want, tk)
			}
		}
		if got.RunID != id || len(got.Tasks) != len(want) {
			t.Fatalf("%s: %s", q, body)
		}
		for i, tk := range got.Tasks {
			if weirJSON(tk.Task) != weirJSON(want[i]) {
				t.Errorf("%s: task %d = %s, want the summary's %s", q, i, weirJSON(tk.Task), weirJSON(want[i]))
			}
			tr := snap.TaskRuns[0]
			for _, x := range snap.TaskRuns {
				if x.Path == tk.Name {
					tr = x
				}
			}
			if tk.CreatedAt != *stamp(tr.CreatedAt) || tk.StartedAt != *stamp(tr.StartedAt) || tk.FinishedAt != *stamp(tr.FinishedAt) {
				t.Errorf("%s: times of %s = %s %s %s", q, tk.Name, tk.CreatedAt, tk.StartedAt, tk.FinishedAt)
			}
		}
	}
	if !strings.Contains(weirJSON(full.Tasks), `"artifacts":{"data"`) {
		t.Errorf("the test pipeline has no artifacts to compare: %s", weirJSON(full.Tasks))
	}
}

func TestSortByPathIsLessPath(t *testing.T) {
	paths := []string{"a", "a/0", "a/1", "a/10", "a/2", "a/2/x", "a/2/y", "b", "b/c/0/d", "b/c/11/d", "b/c/3", "10", "9", "a-b", "a/x", "a/0/z"}
	for i := 0; i < 20; i++ {
		got := slices.Clone(paths)
		rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
		want := slices.Clone(got)
		slices.SortStableFunc(want, func(a, b string) int {
			switch {
			case report.LessPath(a, b):
				return -1
			case report.LessPath(b, a):
				return 1
			}
			return 0
		})
		sortByPath(got, func(s string) string { return s })
		if !slices.Equal(got, want) {
			t.Fatalf("sortByPath = %v, want %v", got, want)
		}
	}
}
