package server

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/weir-dev/weir/ui"
)

// uiRoutes serves the embedded web interface (package ui) at "/": its
// files, and its page for every other path outside the API (client-side
// routes).
func (s *Server) uiRoutes() {
	s.mux.Handle("GET /", newUIHandler(ui.Files()))
}

// uiRequest reports a request for the web interface's static files, which
// are served without the bearer token: they hold no data, and the
// interface asks for the token when the API refuses it.
func uiRequest(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	return p != "/metrics" && p != "/healthz" && p != "/apis" && !strings.HasPrefix(p, "/apis/")
}

// uiHandler serves the files of the built interface; extension-less paths
// that name no file get the application's page.
type uiHandler struct {
	files fs.FS
	page  []byte // app.html, or the placeholder when the UI was not built
	built bool
	start time.Time
}

func newUIHandler(files fs.FS) *uiHandler {
	h := &uiHandler{files: files, start: time.Now()}
	if b, err := fs.ReadFile(files, ui.App); err == nil {
		h.page, h.built = b, true
	} else if b, err := fs.ReadFile(files, ui.Placeholder); err == nil {
		h.page = b
	} else {
		h.page = []byte("<!doctype html><title>weir</title><p>The web interface is not built: run <code>make ui</code>.</p>\n")
	}
	return h
}

// uiCSP keeps the interface to its own origin: no script, style, font or
// image comes from anywhere else.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"font-src 'self' data:; connect-src 'self'; frame-src 'self' blob: data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"

func (h *uiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/apis" || strings.HasPrefix(p, "/apis/") {
		// Unknown API endpoints keep their Status bodies.
		writeError(w, fmt.Errorf("no such endpoint: %s %s: %w", r.Method, p, errNotFound))
		return
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name != "" && name != ui.App && name != ui.Placeholder && fs.ValidPath(name) {
		if st, err := fs.Stat(h.files, name); err == nil && !st.IsDir() {
			f, err := h.files.Open(name)
			if err != nil {
				writeError(w, err)
				return
			}
			defer f.Close()
			if strings.HasPrefix(name, "assets/") {
				// Built assets are named by their content hash.
				hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				hdr.Set("Cache-Control", "no-cache")
			}
			rs, ok := f.(io.ReadSeeker)
			if !ok {
				b, err := io.ReadAll(f)
				if err != nil {
					writeError(w, err)
					return
				}
				rs = bytes.NewReader(b)
			}
			http.ServeContent(w, r, name, h.start, rs)
			return
		}
		// A missing file is a 404, not the page: a stale asset must not
		// be answered with HTML.
		if name == "assets" || strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
	}
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	if h.built {
		hdr.Set("Content-Security-Policy", uiCSP)
	}
	http.ServeContent(w, r, "index.html", h.start, bytes.NewReader(h.page))
}
