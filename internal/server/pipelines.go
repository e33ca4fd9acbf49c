package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

type pipelineJSON struct {
	PipelineID  string  `json:"pipeline_id"`
	DisplayName string  `json:"display_name"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	CreatedAt   *string `json:"created_at,omitempty"`
	Namespace   string  `json:"namespace,omitempty"`
}

type versionJSON struct {
	PipelineID        string          `json:"pipeline_id"`
	PipelineVersionID string          `json:"pipeline_version_id"`
	DisplayName       string          `json:"display_name"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	CreatedAt         *string         `json:"created_at,omitempty"`
	PipelineSpec      json.RawMessage `json:"pipeline_spec,omitempty"`
}

func pipelineOut(p *run.Pipeline) pipelineJSON {
	return pipelineJSON{PipelineID: p.ID, DisplayName: p.DisplayName, Name: p.Name, Description: p.Description,
		CreatedAt: stamp(p.CreatedAt), Namespace: p.Namespace}
}

func versionOut(v *run.PipelineVersion, withSpec bool) versionJSON {
	out := versionJSON{PipelineID: v.PipelineID, PipelineVersionID: v.ID, DisplayName: v.DisplayName, Name: v.Name,
		Description: v.Description, CreatedAt: stamp(v.CreatedAt)}
	if withSpec {
		out.PipelineSpec = specJSON(v.Spec)
	}
	return out
}

// specJSON renders a stored spec document (YAML or JSON, one or two
// documents) as the API's pipeline_spec object.
func specJSON(doc []byte) json.RawMessage {
	// A spec submitted as JSON (through the API) is passed through as it
	// is: re-parsing every spec of a listed page would cost more than the
	// query.
	if t := bytes.TrimSpace(doc); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return t
	}
	b, err := spec.DocumentJSON(doc)
	if err != nil {
		return nil
	}
	return b
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// validSpec decodes an uploaded document; an invalid one is a 400 naming
// the problem.
func validSpec(file string, data []byte) (*spec.Pipeline, error) {
	p, _, err := spec.Decode(file, data)
	if err != nil {
		return nil, badRequest("%s is not a valid pipeline: %v", file, err)
	}
	return p, nil
}

// readUpload reads the multipart field "uploadfile".
func readUpload(r *http.Request) (string, []byte, error) {
	f, hdr, err := r.FormFile("uploadfile")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", nil, err
		}
		return "", nil, badRequest("upload: want a multipart form with the file in field \"uploadfile\": %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return "", nil, err
	}
	name := hdr.Filename
	if name == "" {
		name = "pipeline.yaml"
	}
	return name, data, nil
}

func checkName(what, name string) error {
	if strings.TrimSpace(name) == "" {
		return badRequest("%s name is empty", what)
	}
	if len(name) > 128 {
		return badRequest("%s name is longer than 128 characters", what)
	}
	return nil
}

func (s *Server) uploadPipeline(w http.ResponseWriter, r *http.Request) {
	file, data, err := readUpload(r)
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := validSpec(file, data)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	name := q.Get("name")
	if name == "" {
		name = q.Get("display_name")
	}
	if name == "" {
		name = p.PipelineInfo.Name
	}
	if err := checkName("pipeline", name); err != nil {
		writeError(w, err)
		return
	}
	now := time.Now().UTC()
	pl := &run.Pipeline{ID: newID(), Name: name, DisplayName: name, Description: q.Get("description"), Namespace: q.Get("namespace"), CreatedAt: now}
	v := &run.PipelineVersion{ID: newID(), PipelineID: pl.ID, Name: name, DisplayName: name, Description: q.Get("description"), Spec: data, CreatedAt: now}
	if err := s.store.CreatePipeline(r.Context(), pl, v); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pipelineOut(pl))
}

func (s *Server) uploadPipelineVersion(w http.ResponseWriter, r *http.Request) {
	file, data, err := readUpload(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := validSpec(file, data); err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	pid := q.Get("pipelineid")
	if pid == "" {
		writeError(w, badRequest("upload_version: missing query parameter pipelineid"))
		return
	}
	name := q.Get("name")
	if name == "" {
		name = q.Get("display_name")
	}
	if err := checkName("pipeline version", name); err != nil {
		writeError(w, err)
		return
	}
	v := &run.PipelineVersion{ID: newID(), PipelineID: pid, Name: name, DisplayName: name, Description: q.Get("description"), Spec: data, CreatedAt: time.Now().UTC()}
	if err := s.store.CreatePipelineVersion(r.Context(), v); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, versionOut(v, false))
}

type pipelineIn struct {
	PipelineID  string `json:"pipeline_id"`
	DisplayName string `json:"display_name"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Namespace   string `json:"namespace"`
	CreatedAt   string `json:"created_at"`
	Error       any    `json:"error"`
}

type versionIn struct {
	PipelineID        string `json:"pipeline_id"`
	PipelineVersionID string `json:"pipeline_version_id"`
	DisplayName       string `json:"display_name"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	CreatedAt         string `json:"created_at"`
	PackageURL        *struct {
		PipelineURL string `json:"pipeline_url"`
	} `json:"package_url"`
	CodeSourceURL string            `json:"code_source_url"`
	PipelineSpec  json.RawMessage   `json:"pipeline_spec"`
	Tags          map[string]string `json:"tags"`
	Error         any               `json:"error"`
}

func (s *Server) createPipeline(w http.ResponseWriter, r *http.Request) {
	var in pipelineIn
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	name := firstNonEmpty(in.Name, in.DisplayName)
	if err := checkName("pipeline", name); err != nil {
		writeError(w, err)
		return
	}
	pl := &run.Pipeline{ID: newID(), Name: name, DisplayName: firstNonEmpty(in.DisplayName, name), Description: in.Description, Namespace: in.Namespace, CreatedAt: time.Now().UTC()}
	if err := s.store.CreatePipeline(r.Context(), pl, nil); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pipelineOut(pl))
}

func (s *Server) createPipelineAndVersion(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Pipeline        pipelineIn `json:"pipeline"`
		PipelineVersion versionIn  `json:"pipeline_version"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	name := firstNonEmpty(in.Pipeline.Name, in.Pipeline.DisplayName)
	if err := checkName("pipeline", name); err != nil {
		writeError(w, err)
		return
	}
	data, err := versionSpec(in.PipelineVersion)
	if err != nil {
		writeError(w, err)
		return
	}
	now := time.Now().UTC()
	pl := &run.Pipeline{ID: newID(), Name: name, DisplayName: firstNonEmpty(in.Pipeline.DisplayName, name), Description: in.Pipeline.Description, Namespace: in.Pipeline.Namespace, CreatedAt: now}
	vname := firstNonEmpty(in.PipelineVersion.Name, in.PipelineVersion.DisplayName, name)
	v := &run.PipelineVersion{ID: newID(), PipelineID: pl.ID, Name: vname, DisplayName: firstNonEmpty(in.PipelineVersion.DisplayName, vname), Description: in.PipelineVersion.Description, Spec: data, CreatedAt: now}
	if err := s.store.CreatePipeline(r.Context(), pl, v); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pipelineOut(pl))
}

// versionSpec takes a version's spec from its body: an inline
// pipeline_spec (a remote package_url cannot be fetched by this server).
func versionSpec(in versionIn) ([]byte, error) {
	if len(in.PipelineSpec) > 0 && string(in.PipelineSpec) != "null" {
		if _, err := validSpec("pipeline_spec", in.PipelineSpec); err != nil {
			return nil, err
		}
		return in.PipelineSpec, nil
	}
	if in.PackageURL != nil && in.PackageURL.PipelineURL != "" {
		return nil, badRequest("package_url %q: this server does not fetch pipelines from URLs; upload the file (pipelines/upload_version) or send pipeline_spec", in.PackageURL.PipelineURL)
	}
	return nil, badRequest("pipeline version: missing pipeline_spec")
}

func (s *Server) createPipelineVersion(w http.ResponseWriter, r *http.Request) {
	var in versionIn
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	data, err := versionSpec(in)
	if err != nil {
		writeError(w, err)
		return
	}
	name := firstNonEmpty(in.Name, in.DisplayName)
	if err := checkName("pipeline version", name); err != nil {
		writeError(w, err)
		return
	}
	v := &run.PipelineVersion{ID: newID(), PipelineID: r.PathValue("id"), Name: name, DisplayName: firstNonEmpty(in.DisplayName, name), Description: in.Description, Spec: data, CreatedAt: time.Now().UTC()}
	if err := s.store.CreatePipelineVersion(r.Context(), v); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, versionOut(v, true))
}

func (s *Server) listPipelines(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, "pipelines", nil, []string{"namespace"}, s.store.ListPipelines, pipelineOut)
}

func (s *Server) getPipeline(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.GetPipeline(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pipelineOut(p))
}

func (s *Server) getPipelineByName(w http.ResponseWriter, r *http.Request, name string) {
	p, err := s.store.GetPipelineByName(r.Context(), name)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, pipelineOut(p))
}

func (s *Server) deletePipeline(w http.ResponseWriter, r *http.Request) {
	cascade := r.URL.Query().Get("cascade") == "true"
	if err := s.store.DeletePipeline(r.Context(), r.PathValue("id"), cascade); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func (s *Server) listPipelineVersions(w http.ResponseWriter, r *http.Request, id string) {
	if _, err := s.store.GetPipeline(r.Context(), id); err != nil {
		writeError(w, err)
		return
	}
	opts, err := listOptions(r, nil)
	if err != nil {
		writeError(w, err)
		return
	}
	vs, page, err := s.store.ListPipelineVersions(r.Context(), id, opts)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]versionJSON, len(vs))
	for i, v := range vs {
		out[i] = versionOut(v, true)
	}
	writeJSON(w, http.StatusOK, map[string]any{"pipeline_versions": out, "total_size": page.Total, "next_page_token": nextToken(page)})
}

func (s *Server) getPipelineVersion(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.GetPipelineVersion(r.Context(), r.PathValue("vid"))
	if err == nil && v.PipelineID != r.PathValue("id") {
		err = fmt.Errorf("pipeline %s has no version %s: %w", r.PathValue("id"), r.PathValue("vid"), errNotFound)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, versionOut(v, true))
}

func (s *Server) deletePipelineVersion(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.GetPipelineVersion(r.Context(), r.PathValue("vid"))
	if err == nil && v.PipelineID != r.PathValue("id") {
		err = fmt.Errorf("pipeline %s has no version %s: %w", r.PathValue("id"), r.PathValue("vid"), errNotFound)
	}
	if err == nil {
		err = s.store.DeletePipelineVersion(r.Context(), v.ID)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// specDocJSON is specJSON with its error, for callers that need it.
func specDocJSON(doc []byte) ([]byte, error) { return spec.DocumentJSON(doc) }
