package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/executor/local"
	"github.com/weir-dev/weir/internal/store"
)

func uiGet(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

func TestUIServesBuiltFilesAndFallsBackToThePage(t *testing.T) {
	h := newUIHandler(fstest.MapFS{
		"index.html":         {Data: []byte("placeholder")},
		"app.html":           {Data: []byte("<!doctype html><title>app</title>")},
		"assets/app-1234.js": {Data: []byte("console.log(1)")},
	})
	for _, p := range []string{"/", "/runs", "/runs/01a2/?task=x", "/pipelines/p1", "/index.html", "/app.html"} {
		rec := uiGet(t, h, p)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<title>app</title>") {
			t.Errorf("GET %s: %d %q, want the app page", p, rec.Code, rec.Body.String())
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", p, cc)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", p, ct)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	rec := uiGet(t, h, "/assets/app-1234.js")
	if rec.Code != 200 || rec.Body.String() != "console.log(1)" {
		t.Errorf("asset: %d %q", rec.Code, rec.Body.String())
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("asset Cache-Control %q", cc)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("asset Content-Type %q", ct)
	}
	for _, p := range []string{"/assets/app-gone.js", "/favicon.ico", "/assets/"} {
		if rec := uiGet(t, h, p); rec.Code != 404 {
			t.Errorf("GET %s: %d, want 404", p, rec.Code)
		}
	}
	// Paths are cleaned: nothing outside the embedded files is reachable.
	if rec := uiGet(t, h, "/../../etc/passwd"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "<title>app</title>") {
		t.Errorf("traversal: %d %q", rec.Code, rec.Body.String())
	}
}

func TestUIPlaceholderWhenNotBuilt(t *testing.T) {
	h := newUIHandler(fstest.MapFS{"index.html": {Data: []byte("the web interface is not built: make ui")}})
	for _, p := range []string{"/", "/runs/x"} {
		rec := uiGet(t, h, p)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "make ui") {
			t.Errorf("GET %s: %d %q", p, rec.Code, rec.Body.String())
		}
	}
}

func TestUIThroughTheServer(t *testing.T) {
	home := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(home, "weir.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng := engine.New(st, local.New(local.Options{WorkRoot: filepath.Join(home, "work")}), nil, engine.Config{Home: home})
	ts := httptest.NewServer(New(st, engine.NewService(eng, st, 0, nil), Config{PipelineRoot: home, AuthToken: "tok"}))
	defer ts.Close()
	do := func(method, path, token string) (*http.Response, string) {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	// The interface needs no token; the API still does.
	for _, p := range []string{"/", "/runs/some-run"} {
		if resp, body := do("GET", p, ""); resp.StatusCode != 200 || !strings.Contains(strings.ToLower(body), "<!doctype html") {
			t.Errorf("GET %s without a token: %d %.80q", p, resp.StatusCode, body)
		}
	}
	// Nor does the OpenAPI document the interface links to.
	for _, p := range []string{"/apis/v2beta1/openapi.yaml", "/apis/weir/v1/openapi.yaml"} {
		if resp, body := do("GET", p, ""); resp.StatusCode != 200 || !strings.Contains(body, "openapi:") {
			t.Errorf("GET %s without a token: %d %.80q", p, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"/apis/v2beta1/runs", "/metrics", "/apis/weir/v1/events"} {
		if resp, _ := do("GET", p, ""); resp.StatusCode != 401 {
			t.Errorf("GET %s without a token: %d, want 401", p, resp.StatusCode)
		}
	}
	if resp, _ := do("POST", "/", ""); resp.StatusCode != 401 {
		t.Errorf("POST / without a token: %d, want 401", resp.StatusCode)
	}
	// Unknown API paths keep their Status bodies.
	resp, body := do("GET", "/apis/v2beta1/nothing-here", "tok")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":5`) {
		t.Errorf("unknown API path: %d %q", resp.StatusCode, body)
	}
	resp, body = do("GET", "/apis/weir/v2/x", "tok")
	if resp.StatusCode != 404 || !strings.Contains(body, `"code":5`) {
		t.Errorf("unknown API path: %d %q", resp.StatusCode, body)
	}
}
