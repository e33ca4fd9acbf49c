package server

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

// lineageTask locates one end of a lineage edge: a task of a run (and its
// attempt, when the event names one) that produced or consumed an artifact
// under a name.
type lineageTask struct {
	RunID     string  `json:"run_id"`
	RunName   string  `json:"run_name"`
	Task      string  `json:"task"`
	TaskRunID string  `json:"task_run_id"`
	Attempt   int     `json:"attempt,omitempty"`
	AttemptID string  `json:"attempt_id,omitempty"`
	Name      string  `json:"name"`
	Index     int     `json:"index"`
	CreatedAt *string `json:"created_at,omitempty"`
}

// lineageJSON is an artifact's lineage across runs.
type lineageJSON struct {
	ArtifactID string `json:"artifact_id"`
	// Producer is the task that wrote the artifact (null for an artifact
	// no task claims).
	Producer *lineageTask `json:"producer"`
	// Consumers are the tasks, in any run, that took it as an input.
	Consumers []lineageTask `json:"consumers"`
	// Reused lists the other tasks that output it: the DAGs that pass it
	// up and the cached tasks of later runs that reused it.
	Reused []lineageTask `json:"reused"`
}

type artifactJSON struct {
	ArtifactID    string         `json:"artifact_id"`
	RunID         string         `json:"run_id"`
	URI           string         `json:"uri"`
	Path          string         `json:"path"`
	Type          string         `json:"type"`
	SchemaVersion string         `json:"schema_version"`
	Metadata      map[string]any `json:"metadata"`
	Digest        string         `json:"digest"`
	Size          int64          `json:"size"`
	CreatedAt     *string        `json:"created_at,omitempty"`
	lineageJSON
}

func edgeOut(e store.LineageEdge) lineageTask {
	return lineageTask{RunID: e.RunID, RunName: e.RunName, Task: e.TaskPath, TaskRunID: e.TaskRunID,
		Attempt: e.Attempt, AttemptID: e.AttemptID, Name: e.Name, Index: e.Index, CreatedAt: stamp(e.CreatedAt)}
}

// lineage reads an artifact's edges. The producer is the output edge of the
// artifact's own run that ran an attempt (a container task), else the first
// output edge of its run, else the first output edge at all.
func (s *Server) lineage(ctx context.Context, a *run.Artifact) (lineageJSON, error) {
	edges, err := s.store.ArtifactLineage(ctx, a.ID)
	if err != nil {
		return lineageJSON{}, err
	}
	out := lineageJSON{ArtifactID: a.ID, Consumers: []lineageTask{}, Reused: []lineageTask{}}
	producer, rank := -1, 0
	for i, e := range edges {
		if e.Kind != run.EventOutput {
			continue
		}
		r := 1
		if e.RunID == a.RunID {
			r = 2
			if e.AttemptID != "" {
				r = 3
			}
		}
		if r > rank {
			producer, rank = i, r
		}
	}
	for i, e := range edges {
		switch {
		case i == producer:
			p := edgeOut(e)
			out.Producer = &p
		case e.Kind == run.EventInput:
			out.Consumers = append(out.Consumers, edgeOut(e))
		default:
			out.Reused = append(out.Reused, edgeOut(e))
		}
	}
	return out, nil
}

// artifactInfo serves an artifact's record with its producer and
// consumers.
func (s *Server) artifactInfo(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.ArtifactByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	lin, err := s.lineage(r.Context(), a)
	if err != nil {
		writeError(w, err)
		return
	}
	md := a.Metadata
	if md == nil {
		md = map[string]any{}
	}
	writeJSON(w, http.StatusOK, artifactJSON{ArtifactID: a.ID, RunID: a.RunID, URI: a.URI, Path: launch.LocalPath(a.URI),
		Type: a.SchemaTitle, SchemaVersion: a.SchemaVersion, Metadata: md, Digest: a.Digest, Size: a.Size,
		CreatedAt: stamp(a.CreatedAt), lineageJSON: lin})
}

// artifactLineage serves an artifact's lineage alone.
func (s *Server) artifactLineage(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.ArtifactByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	lin, err := s.lineage(r.Context(), a)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, lin)
}

// artifactRoots are the directories whose artifacts may be served, with
// their symbolic links resolved.
func (s *Server) artifactRoots() []string {
	var out []string
	for _, root := range append([]string{s.cfg.PipelineRoot}, s.cfg.ArtifactRoots...) {
		if root == "" || !filepath.IsAbs(root) {
			continue
		}
		if real, err := filepath.EvalSymlinks(root); err == nil {
			out = append(out, real)
		}
	}
	return out
}

// within reports whether path lies strictly inside dir (both cleaned).
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func insideAny(path string, roots []string) bool {
	for _, r := range roots {
		if within(path, r) {
			return true
		}
	}
	return false
}

// localContent returns the real path (symbolic links resolved) of a
// recorded artifact's content, refusing (errForbidden) anything that does
// not lie inside an artifact root.
func (s *Server) localContent(a *run.Artifact) (string, fs.FileInfo, error) {
	p := launch.LocalPath(a.URI)
	if !filepath.IsAbs(p) {
		return "", nil, fmt.Errorf("artifact %s (%s) is not stored on this machine: %w", a.ID, a.URI, errForbidden)
	}
	roots := s.artifactRoots()
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if !insideAny(filepath.Clean(p), roots) {
			return "", nil, fmt.Errorf("artifact %s lies outside the directories this server serves: %w", a.ID, errForbidden)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("the content of artifact %s is gone: %w", a.ID, errNotFound)
		}
		return "", nil, err
	}
	if !insideAny(real, roots) {
		return "", nil, fmt.Errorf("artifact %s lies outside the directories this server serves: %w", a.ID, errForbidden)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", nil, err
	}
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return "", nil, fmt.Errorf("artifact %s is neither a file nor a directory: %w", a.ID, errForbidden)
	}
	return real, fi, nil
}

// artifactContent serves an artifact's content: a file as it is, a
// directory as a tar.gz stream.
func (s *Server) artifactContent(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.ArtifactByID(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	real, fi, err := s.localContent(a)
	if err != nil {
		writeWeirError(w, err)
		return
	}
	name := filepath.Base(launch.LocalPath(a.URI))
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	if !fi.IsDir() {
		f, err := os.Open(real)
		if err != nil {
			writeError(w, err)
			return
		}
		defer f.Close()
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		if a.Digest != "" {
			h.Set("ETag", `"`+a.Digest+`"`)
		}
		http.ServeContent(w, r, name, fi.ModTime(), f)
		return
	}
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + ".tar.gz"}))
	w.WriteHeader(http.StatusOK)
	if err := s.writeTarGz(w, real, name); err != nil {
		// The status is sent: the client sees a truncated archive.
		s.log.Warn("artifact download", "artifact", a.ID, "err", err)
	}
}

// writeTarGz writes a directory as a gzipped tar whose entries sit under
// prefix/. Symbolic links are never followed out of the artifact roots: a
// link to a file inside them is archived as that file, any other link is
// left out.
func (s *Server) writeTarGz(w io.Writer, dir, prefix string) error {
	roots := s.artifactRoots()
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(filepath.Join(prefix, rel))
		target := path
		if d.Type()&fs.ModeSymlink != 0 {
			real, err := filepath.EvalSymlinks(path)
			if err != nil || !insideAny(real, roots) {
				return nil
			}
			target = real
		}
		fi, err := os.Stat(target)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir() && target == path:
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: fi.ModTime()})
		case fi.Mode().IsRegular():
			return addFile(tw, target, name, fi)
		}
		return nil // linked directories, devices, sockets...
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func addFile(tw *tar.Writer, path, name string, fi fs.FileInfo) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(fi.Mode().Perm()), Size: fi.Size(), ModTime: fi.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	// A file that grows while it is archived is cut at its recorded size.
	_, err = io.Copy(tw, io.LimitReader(f, fi.Size()))
	return err
}
