// Package launch implements the KFP executor protocol: it builds a step's
// executor input, resolves the placeholders of its command line, and
// collects the parameters and artifacts the step produced.
package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/weir-dev/weir/internal/spec"
)

// Artifact is an artifact as the executor protocol carries it.
type Artifact struct {
	Name          string         `json:"name"`
	SchemaTitle   string         `json:"-"`
	SchemaVersion string         `json:"-"`
	URI           string         `json:"uri"`
	Metadata      map[string]any `json:"metadata"`
}

// Runtime holds the values of the runtime placeholders.
type Runtime struct {
	JobName      string // {{$.pipeline_job_name}}
	JobUUID      string // {{$.pipeline_job_uuid}}
	TaskName     string // {{$.pipeline_task_name}}
	TaskUUID     string // {{$.pipeline_task_uuid}}
	PipelineRoot string // {{$.pipeline_root}}
	CreateTime   string // {{$.pipeline_job_create_time_utc}}
}

// Step is everything needed to prepare one attempt of a container task.
type Step struct {
	Component *spec.Component
	Container *spec.Container
	// Params are the resolved input parameter values (defaults applied);
	// an input absent from the map was not supplied.
	Params map[string]any
	// Inputs are the input artifacts by input name.
	Inputs map[string][]Artifact
	// OutputRoot is the URI prefix for this task's output artifacts; each
	// output gets OutputRoot/<output name>.
	OutputRoot string
	// WorkDir is the attempt's private directory: the executor output file
	// and output parameter files live there. Prepare creates it unless
	// WorkDirMade says the caller already has.
	WorkDir     string
	WorkDirMade bool
	Runtime     Runtime
}

// Prepared is a step ready to start.
type Prepared struct {
	Argv       []string
	Env        []string
	OutputFile string
	ParamFiles map[string]string
	Outputs    map[string]Artifact
	outDefs    *spec.Definitions
	// ei is the executor input, encoded (executorInput) only when a
	// command line asks for it: most steps never do.
	ei      executorInput
	eiBytes []byte
}

// ExecutorInput returns the executor input the KFP Python executor reads
// ({{$}} on a command line), as JSON.
func (p *Prepared) ExecutorInput() ([]byte, error) {
	if p.eiBytes == nil {
		b, err := json.Marshal(p.ei)
		if err != nil {
			return nil, fmt.Errorf("encode executor input: %w", err)
		}
		p.eiBytes = b
	}
	return p.eiBytes, nil
}

type artifactList struct {
	Artifacts []runtimeArtifact `json:"artifacts"`
}

type runtimeArtifact struct {
	Name     string         `json:"name"`
	Type     artifactType   `json:"type"`
	URI      string         `json:"uri"`
	Metadata map[string]any `json:"metadata"`
}

type artifactType struct {
	SchemaTitle   string `json:"schemaTitle"`
	SchemaVersion string `json:"schemaVersion,omitempty"`
}

type outputParameter struct {
	OutputFile string `json:"outputFile"`
}

type executorInput struct {
	Inputs struct {
		ParameterValues map[string]any          `json:"parameterValues"`
		Artifacts       map[string]artifactList `json:"artifacts,omitempty"`
	} `json:"inputs"`
	Outputs struct {
		Parameters map[string]outputParameter `json:"parameters,omitempty"`
		Artifacts  map[string]artifactList    `json:"artifacts,omitempty"`
		OutputFile string                     `json:"outputFile"`
	} `json:"outputs"`
}

// Prepare builds the executor input and the resolved command line, and
// creates the directories the step will write into.
func Prepare(s Step) (*Prepared, error) {
	p := &Prepared{
		OutputFile: filepath.Join(s.WorkDir, "executor_output.json"),
		ParamFiles: map[string]string{},
		Outputs:    map[string]Artifact{},
		outDefs:    s.Component.OutputDefinitions,
	}
	var ei executorInput
	ei.Inputs.ParameterValues = map[string]any{}
	for k, v := range s.Params {
		ei.Inputs.ParameterValues[k] = v
	}
	if len(s.Inputs) > 0 {
		ei.Inputs.Artifacts = map[string]artifactList{}
		for name, arts := range s.Inputs {
			l := artifactList{Artifacts: make([]runtimeArtifact, len(arts))}
			for i, a := range arts {
				l.Artifacts[i] = toRuntime(a)
			}
			ei.Inputs.Artifacts[name] = l
		}
	}
	ei.Outputs.OutputFile = p.OutputFile
	var dirs []string
	if !s.WorkDirMade {
		dirs = append(dirs, s.WorkDir)
	}
	if d := s.Component.OutputDefinitions; d != nil {
		if len(d.Parameters) > 0 {
			ei.Outputs.Parameters = map[string]outputParameter{}
		}
		for name := range d.Parameters {
			f := filepath.Join(s.WorkDir, "output-"+name)
			p.ParamFiles[name] = f
			ei.Outputs.Parameters[name] = outputParameter{OutputFile: f}
		}
		if len(d.Artifacts) > 0 {
			ei.Outputs.Artifacts = map[string]artifactList{}
		}
		for name, as := range d.Artifacts {
			a := Artifact{
				Name: name, URI: strings.TrimSuffix(s.OutputRoot, "/") + "/" + name,
				SchemaTitle: as.ArtifactType.SchemaTitle, SchemaVersion: as.ArtifactType.SchemaVersion,
				Metadata: map[string]any{},
			}
			p.Outputs[name] = a
			ei.Outputs.Artifacts[name] = artifactList{Artifacts: []runtimeArtifact{toRuntime(a)}}
			dirs = append(dirs, filepath.Dir(LocalPath(a.URI)))
		}
	}
	made := map[string]bool{}
	for _, d := range dirs {
		if made[d] {
			continue
		}
		made[d] = true
		if err := mkdir(d); err != nil {
			return nil, fmt.Errorf("prepare step: %w", err)
		}
	}
	p.ei = ei
	r := &resolver{step: s, prepared: p}
	for i, raw := range append(append([]string{}, s.Container.Command...), s.Container.Args...) {
		a, err := spec.ParseArg(raw)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		vals, err := r.expand(a)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		p.Argv = append(p.Argv, vals...)
	}
	if len(p.Argv) == 0 {
		return nil, fmt.Errorf("empty command line")
	}
	for _, e := range s.Container.Env {
		p.Env = append(p.Env, e.Name+"="+e.Value)
	}
	return p, nil
}

// mkdir makes sure directory d exists. The usual case, a new directory
// whose parent exists, costs one system call (os.MkdirAll would stat the
// directory and its parent first).
func mkdir(d string) error {
	err := os.Mkdir(d, 0o755)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(d, 0o755)
	case errors.Is(err, fs.ErrExist):
		if fi, serr := os.Stat(d); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

func toRuntime(a Artifact) runtimeArtifact {
	md := a.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return runtimeArtifact{Name: a.Name, Type: artifactType{SchemaTitle: a.SchemaTitle, SchemaVersion: a.SchemaVersion}, URI: a.URI, Metadata: md}
}

// LocalPath maps an artifact URI to the path a step reads and writes, as the
// KFP SDK does: gs:// -> /gcs/, s3:// -> /s3/, minio:// -> /minio/; a plain
// path (or file:// URI) is used as it is.
func LocalPath(uri string) string {
	for prefix, mount := range map[string]string{"gs://": "/gcs/", "s3://": "/s3/", "minio://": "/minio/"} {
		if rest, ok := strings.CutPrefix(uri, prefix); ok {
			return mount + rest
		}
	}
	return strings.TrimPrefix(uri, "file://")
}

type resolver struct {
	step     Step
	prepared *Prepared
}

// expand resolves one command-line element into zero or more arguments.
func (r *resolver) expand(a spec.Arg) ([]string, error) {
	switch {
	case a.IfPresent != nil:
		branch := a.IfPresent.Else
		if r.present(a.IfPresent.InputName) {
			branch = a.IfPresent.Then
		}
		var out []string
		for _, b := range branch {
			vals, err := r.expand(b)
			if err != nil {
				return nil, err
			}
			out = append(out, vals...)
		}
		return out, nil
	case a.Concat != nil:
		var b strings.Builder
		for _, c := range a.Concat {
			vals, err := r.expand(c)
			if err != nil {
				return nil, err
			}
			b.WriteString(strings.Join(vals, ""))
		}
		return []string{b.String()}, nil
	}
	s, err := r.template(a.Template)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func (r *resolver) present(name string) bool {
	if v, ok := r.step.Params[name]; ok && v != nil {
		return true
	}
	return len(r.step.Inputs[name]) > 0
}

func (r *resolver) template(segs []spec.Segment) (string, error) {
	var b strings.Builder
	for _, seg := range segs {
		if seg.Ref == nil {
			b.WriteString(seg.Text)
			continue
		}
		v, err := r.ref(*seg.Ref)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

func (r *resolver) ref(ref spec.Ref) (string, error) {
	s, p := r.step, r.prepared
	switch ref.Kind {
	case spec.RefExecutorInput:
		b, err := p.ExecutorInput()
		return string(b), err
	case spec.RefInputParameter:
		return spec.FormatValue(s.Params[ref.Name]), nil
	case spec.RefInputArtifact:
		arts := s.Inputs[ref.Name]
		if len(arts) == 0 {
			return "", fmt.Errorf("input artifact %q was not supplied", ref.Name)
		}
		return artifactAttr(arts[0], ref)
	case spec.RefOutputParameter:
		f, ok := p.ParamFiles[ref.Name]
		if !ok {
			return "", fmt.Errorf("unknown output parameter %q", ref.Name)
		}
		return f, nil
	case spec.RefOutputArtifact:
		a, ok := p.Outputs[ref.Name]
		if !ok {
			return "", fmt.Errorf("unknown output artifact %q", ref.Name)
		}
		return artifactAttr(a, ref)
	case spec.RefOutputFile:
		return p.OutputFile, nil
	case spec.RefRuntime:
		switch ref.Name {
		case spec.RuntimeJobName:
			return s.Runtime.JobName, nil
		case spec.RuntimeJobUUID:
			return s.Runtime.JobUUID, nil
		case spec.RuntimeTaskName:
			return s.Runtime.TaskName, nil
		case spec.RuntimeTaskUUID:
			return s.Runtime.TaskUUID, nil
		case spec.RuntimeRoot:
			return s.Runtime.PipelineRoot, nil
		case spec.RuntimeCreateTime, spec.RuntimeScheduleTime:
			return s.Runtime.CreateTime, nil
		}
	}
	return "", fmt.Errorf("unsupported placeholder %s %s", ref.Kind, ref.Name)
}

// artifactAttr renders .path, .uri, .metadata (the whole object as JSON) or
// .metadata['key'] (a string as it is, any other value as JSON; empty when
// absent).
func artifactAttr(a Artifact, ref spec.Ref) (string, error) {
	switch ref.Attr {
	case "path":
		return LocalPath(a.URI), nil
	case "uri":
		return a.URI, nil
	case "metadata":
		if ref.Key != "" {
			v, ok := a.Metadata[ref.Key]
			if !ok {
				return "", nil
			}
			if s, ok := v.(string); ok {
				return s, nil
			}
			b, err := json.Marshal(v)
			return string(b), err
		}
		b, err := json.Marshal(orEmpty(a.Metadata))
		return string(b), err
	}
	return "", fmt.Errorf("unknown artifact attribute %q", ref.Attr)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// sortedNames returns the keys of m in order.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
