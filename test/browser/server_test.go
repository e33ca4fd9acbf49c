//go:build browser

package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weir-dev/weir/test/harness"
)

// server is a `weir server` process under test, with the few API calls
// the tests make directly.
type server struct{ *harness.Server }

// startServer runs weir server for the test (on a free port), waits until it
// answers, and stops it when the test ends (showing its log if the test
// failed).
func startServer(t *testing.T, home string, extra ...string) *server {
	t.Helper()
	hs, err := harness.StartServer(weirBin, home, pyenvRoot, "", extra...)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{hs}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log())
		}
	})
	return s
}

// The few API calls that set the stage for a browser (the big runs of the
// timing test); everything the tests check goes through the page.

// apiJSON sends a request and decodes a JSON answer into out (when not nil).
func apiJSON(method, url, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	return nil
}

// uploadPipeline uploads a compiled pipeline and returns its id and its
// version's.
func (s *server) uploadPipeline(file, name string) (pipelineID, versionID string, err error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("uploadfile", filepath.Base(file))
	if err != nil {
		return "", "", err
	}
	doc, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	fw.Write(doc)
	mw.Close()
	var p struct {
		ID string `json:"pipeline_id"`
	}
	if err := apiJSON("POST", s.URL+"/apis/v2beta1/pipelines/upload?name="+url.QueryEscape(name), mw.FormDataContentType(), &body, &p); err != nil {
		return "", "", err
	}
	var vs struct {
		Versions []struct {
			ID string `json:"pipeline_version_id"`
		} `json:"pipeline_versions"`
	}
	if err := apiJSON("GET", s.URL+"/apis/v2beta1/pipelines/"+p.ID+"/versions", "", nil, &vs); err != nil {
		return "", "", err
	}
	if len(vs.Versions) != 1 {
		return "", "", fmt.Errorf("pipeline %s has %d versions, want 1", p.ID, len(vs.Versions))
	}
	return p.ID, vs.Versions[0].ID, nil
}

// createRun starts a run of a pipeline version.
func (s *server) createRun(pipelineID, versionID, name string, params map[string]any) (string, error) {
	in, err := json.Marshal(map[string]any{
		"display_name":               name,
		"pipeline_version_reference": map[string]string{"pipeline_id": pipelineID, "pipeline_version_id": versionID},
		"runtime_config":             map[string]any{"parameters": params},
	})
	if err != nil {
		return "", err
	}
	var r struct {
		ID string `json:"run_id"`
	}
	if err := apiJSON("POST", s.URL+"/apis/v2beta1/runs", "application/json", bytes.NewReader(in), &r); err != nil {
		return "", err
	}
	return r.ID, nil
}

// runGraph is the part of a run's graph summary the setup reads.
type runGraph struct {
	State string `json:"state"`
	Error string `json:"error"`
	Tasks []struct {
		Name string `json:"name"`
	} `json:"tasks"`
	size int
}

// waitRun polls a run until it ends and returns its graph summary.
func (s *server) waitRun(id string, timeout time.Duration) (*runGraph, error) {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(s.URL + "/apis/weir/v1/runs/" + id + "?view=graph")
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("run %s: %s: %s", id, resp.Status, b)
		}
		var g runGraph
		if err := json.Unmarshal(b, &g); err != nil {
			return nil, fmt.Errorf("run %s: %w", id, err)
		}
		switch g.State {
		case "succeeded", "failed", "canceled", "skipped":
			g.size = len(b)
			return &g, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("run %s is still %s after %v", id, g.State, timeout)
		}
		time.Sleep(time.Second)
	}
}
