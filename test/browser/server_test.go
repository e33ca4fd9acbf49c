//go:build browser

package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// server is a `weir server` process under test.
type server struct {
	cmd  *exec.Cmd
	url  string
	home string
	log  *os.File
}

// launch runs weir server with WEIR_HOME=home on a free port and waits
// until it answers.
func launch(home string, extra ...string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.OpenFile(filepath.Join(home, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(weirBin, append([]string{"server", "--addr", addr}, extra...)...)
	cmd.Env = append(os.Environ(), "WEIR_HOME="+home, "WEIR_PYENV_ROOT="+pyenvRoot)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s server: %w", weirBin, err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, home: home, log: logf}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s, nil
		}
	}
	s.stop()
	b, _ := os.ReadFile(filepath.Join(home, "server.log"))
	return nil, fmt.Errorf("weir server did not listen on %s; log:\n%s", addr, b)
}

// startServer launches a server for the test and stops it when the test
// ends.
func startServer(t *testing.T, home string, extra ...string) *server {
	t.Helper()
	s, err := launch(home, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(home, "server.log"))
			t.Logf("server log:\n%s", b)
		}
	})
	return s
}

func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
	}
	s.log.Close()
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
	if err := apiJSON("POST", s.url+"/apis/v2beta1/pipelines/upload?name="+url.QueryEscape(name), mw.FormDataContentType(), &body, &p); err != nil {
		return "", "", err
	}
	var vs struct {
		Versions []struct {
			ID string `json:"pipeline_version_id"`
		} `json:"pipeline_versions"`
	}
	if err := apiJSON("GET", s.url+"/apis/v2beta1/pipelines/"+p.ID+"/versions", "", nil, &vs); err != nil {
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
	if err := apiJSON("POST", s.url+"/apis/v2beta1/runs", "application/json", bytes.NewReader(in), &r); err != nil {
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
		resp, err := http.Get(s.url + "/apis/weir/v1/runs/" + id + "?view=graph")
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
