package launch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/spec"
)

func step(t *testing.T, args []string, params map[string]any, inputs map[string][]Artifact) Step {
	t.Helper()
	dir := t.TempDir()
	return Step{
		Component: &spec.Component{
			InputDefinitions: &spec.Definitions{
				Parameters: map[string]*spec.ParameterSpec{"msg": {ParameterType: spec.String}, "n": {ParameterType: spec.Integer}, "opt": {ParameterType: spec.String, IsOptional: true}},
				Artifacts:  map[string]*spec.ArtifactSpec{"data": {ArtifactType: spec.ArtifactType{SchemaTitle: "system.Dataset"}}},
			},
			OutputDefinitions: &spec.Definitions{
				Parameters: map[string]*spec.ParameterSpec{"count": {ParameterType: spec.Integer}, "label": {ParameterType: spec.String}, "flag": {ParameterType: spec.Boolean}, "xs": {ParameterType: spec.List}},
				Artifacts:  map[string]*spec.ArtifactSpec{"model": {ArtifactType: spec.ArtifactType{SchemaTitle: "system.Model", SchemaVersion: "0.0.1"}}},
			},
		},
		Container:  &spec.Container{Image: "x", Command: []string{"prog"}, Args: args, Env: []spec.EnvVar{{Name: "A", Value: "B"}}},
		Params:     params,
		Inputs:     inputs,
		OutputRoot: filepath.Join(dir, "root", "p", "run1", "train"),
		WorkDir:    filepath.Join(dir, "work"),
		Runtime:    Runtime{JobName: "job", JobUUID: "run1", TaskName: "train", TaskUUID: "tr1", PipelineRoot: filepath.Join(dir, "root")},
	}
}

func TestPlaceholders(t *testing.T) {
	in := map[string][]Artifact{"data": {{Name: "data", URI: "/a/b/data", SchemaTitle: "system.Dataset", Metadata: map[string]any{"rows": int64(3)}}}}
	s := step(t, []string{
		"{{$.inputs.parameters['msg']}}",
		"n={{$.inputs.parameters['n']}}",
		"{{$.inputs.artifacts['data'].path}}",
		"{{$.inputs.artifacts['data'].uri}}",
		"{{$.inputs.artifacts['data'].metadata}}",
		"rows={{$.inputs.artifacts['data'].metadata['rows']}}/{{$.inputs.artifacts['data'].metadata['none']}}",
		`{"Concat": ["a-", "{{$.inputs.parameters['msg']}}", "-z"]}`,
		`{"IfPresent": {"InputName": "opt", "Then": ["--opt", "{{$.inputs.parameters['opt']}}"], "Else": ["--no-opt"]}}`,
		`{"IfPresent": {"InputName": "msg", "Then": ["--msg", {"Concat": ["<", "{{$.inputs.parameters['msg']}}", ">"]}]}}`,
		"{{$.outputs.parameters['count'].output_file}}",
		"{{$.outputs.artifacts['model'].path}}",
		"{{$.outputs.output_file}}",
		"{{$.pipeline_job_name}}/{{$.pipeline_job_uuid}}/{{$.pipeline_task_name}}/{{$.pipeline_task_uuid}}",
	}, map[string]any{"msg": "hi there", "n": int64(3)}, in)
	p, err := Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"prog", "hi there", "n=3", "/a/b/data", "/a/b/data", `{"rows":3}`, "rows=3/", "a-hi there-z", "--no-opt", "--msg", "<hi there>",
		filepath.Join(s.WorkDir, "output-count"), s.OutputRoot + "/model", filepath.Join(s.WorkDir, "executor_output.json"),
		"job/run1/train/tr1",
	}
	if !reflect.DeepEqual(p.Argv, want) {
		t.Errorf("argv:\n got %q\nwant %q", p.Argv, want)
	}
	if !reflect.DeepEqual(p.Env, []string{"A=B"}) {
		t.Errorf("env = %q", p.Env)
	}
	// The executor input is the JSON the KFP Python executor reads.
	var ei map[string]any
	raw, err := p.ExecutorInput()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ei); err != nil {
		t.Fatal(err)
	}
	inputs := ei["inputs"].(map[string]any)
	if pv := inputs["parameterValues"].(map[string]any); pv["n"] != 3.0 || !strings.Contains(string(raw), `"n":3`) {
		t.Errorf("integer parameter not written as 3: %s", raw)
	}
	art := inputs["artifacts"].(map[string]any)["data"].(map[string]any)["artifacts"].([]any)[0].(map[string]any)
	if art["uri"] != "/a/b/data" || art["type"].(map[string]any)["schemaTitle"] != "system.Dataset" {
		t.Errorf("input artifact = %v", art)
	}
	outs := ei["outputs"].(map[string]any)
	if outs["outputFile"] != p.OutputFile {
		t.Errorf("outputFile = %v", outs["outputFile"])
	}
	model := outs["artifacts"].(map[string]any)["model"].(map[string]any)["artifacts"].([]any)[0].(map[string]any)
	if model["name"] != "model" || model["uri"] != s.OutputRoot+"/model" {
		t.Errorf("output artifact = %v", model)
	}
	if _, err := os.Stat(filepath.Dir(LocalPath(s.OutputRoot + "/model"))); err != nil {
		t.Errorf("output artifact directory not created: %v", err)
	}
}

func TestLocalPath(t *testing.T) {
	for uri, want := range map[string]string{
		"gs://b/k/x": "/gcs/b/k/x", "s3://b/k": "/s3/b/k", "minio://b/k": "/minio/b/k",
		"/abs/path": "/abs/path", "file:///abs/path": "/abs/path",
	} {
		if got := LocalPath(uri); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", uri, got, want)
		}
	}
}

func TestCollectTypedOutputs(t *testing.T) {
	s := step(t, nil, map[string]any{"msg": "x", "n": int64(1)}, map[string][]Artifact{"data": {{URI: "/d"}}})
	p, err := Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	// The executor output carries count (as the Python executor writes it)
	// and model metadata; label and flag come from output files.
	eo := `{"parameterValues": {"count": 42, "xs": [1, 2.5, "a"]}, "artifacts": {"model": {"artifacts": [{"name": "model", "uri": "` + s.OutputRoot + `/model", "metadata": {"framework": "sk", "n": 2}}]}}}`
	must(t, os.WriteFile(p.OutputFile, []byte(eo), 0o644))
	must(t, os.WriteFile(p.ParamFiles["label"], []byte("some text\n"), 0o644))
	must(t, os.WriteFile(p.ParamFiles["flag"], []byte("True"), 0o644))
	res, err := p.Collect()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"count": int64(42), "label": "some text\n", "flag": true, "xs": []any{int64(1), 2.5, "a"}}
	if !reflect.DeepEqual(res.Params, want) {
		t.Errorf("params = %#v, want %#v", res.Params, want)
	}
	m := res.Artifacts["model"]
	if len(m) != 1 || m[0].Metadata["framework"] != "sk" || m[0].Metadata["n"] != int64(2) || m[0].SchemaTitle != "system.Model" {
		t.Errorf("model = %+v", m)
	}
}

func TestCollectMissingOutputNamesIt(t *testing.T) {
	s := step(t, nil, nil, map[string][]Artifact{"data": {{URI: "/d"}}})
	p, err := Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Collect()
	if err == nil || !strings.Contains(err.Error(), `"count"`) {
		t.Errorf("err = %v, want it to name the missing output", err)
	}
}

func TestCollectRejectsIllTypedOutput(t *testing.T) {
	s := step(t, nil, nil, map[string][]Artifact{"data": {{URI: "/d"}}})
	p, err := Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(p.OutputFile, []byte(`{"parameterValues": {"count": "many", "label": "x", "flag": true, "xs": []}}`), 0o644))
	if _, err := p.Collect(); err == nil || !strings.Contains(err.Error(), "count") {
		t.Errorf("err = %v, want an error naming count", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestExecutorInputPlaceholder: {{$}} becomes the executor input, the same
// JSON ExecutorInput returns, naming the inputs and the output file.
func TestExecutorInputPlaceholder(t *testing.T) {
	s := step(t, []string{"--executor_input", "{{$}}"}, map[string]any{"msg": "hi", "n": int64(3)}, nil)
	p, err := Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := p.ExecutorInput()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Argv) != 3 || p.Argv[2] != string(raw) {
		t.Fatalf("argv = %q, want the executor input %s last", p.Argv, raw)
	}
	var ei struct {
		Inputs struct {
			ParameterValues map[string]any `json:"parameterValues"`
		} `json:"inputs"`
		Outputs struct {
			OutputFile string `json:"outputFile"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(raw, &ei); err != nil {
		t.Fatal(err)
	}
	if ei.Inputs.ParameterValues["msg"] != "hi" || ei.Outputs.OutputFile != p.OutputFile {
		t.Errorf("executor input = %s", raw)
	}
}
