//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParamsDefaults: every parameter type reaches the component with its
// default value and its Python type; kfp compiles integer defaults and
// constants as doubles (7.0, -5.0), which must arrive as ints.
func TestParamsDefaults(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "params"))
	mustSucceed(t, r, s, "echo-params", "echo-params-2")
	if s.Pipeline != "params" {
		t.Errorf("pipeline = %q, want %q", s.Pipeline, "params")
	}

	tk := s.task(t, "echo-params")
	wantOut(t, tk, "types", `{"s":"str","n":"int","f":"float","b":"bool","l":"list","d":"dict","opt":"NoneType"}`)
	wantOut(t, tk, "s", `"hello"`)
	wantOut(t, tk, "n", `7`)
	wantOut(t, tk, "f", `2.5`)
	wantOut(t, tk, "b", `true`)
	wantOut(t, tk, "l", `["one", 2.5, true]`)
	wantOut(t, tk, "d", `{"k": "v", "ratio": 0.5, "flag": false}`)
	wantOut(t, tk, "opt", `"<none>"`)
	wantIn(t, tk, "n", `7`)
	wantIn(t, tk, "s", `"hello"`)
	wantIn(t, tk, "b", `true`)
	if v, ok := tk.Inputs.Parameters["opt"]; ok && v != nil {
		t.Errorf("input opt = %#v: an optional parameter without default must stay absent", v)
	}
	if v, ok := s.Parameters["n"]; ok {
		wantJSON(t, "run parameter n", v, `7`)
	}

	// Constants compiled into the task (runtimeValue.constant).
	c := s.task(t, "echo-params-2")
	wantOut(t, c, "types", `{"s":"str","n":"int","f":"float","b":"bool","l":"list","d":"dict","opt":"NoneType"}`)
	wantOut(t, c, "s", `"const"`)
	wantOut(t, c, "n", `-5`)
	wantOut(t, c, "f", `0.25`)
	wantOut(t, c, "b", `false`)
	wantOut(t, c, "l", `[]`)
	wantOut(t, c, "d", `{"nested": {"x": [true, "y"]}}`)
	wantIn(t, c, "n", `-5`)
}

// TestParamsOverrides: -p values are parsed by their declared type; a STRING
// that looks like a number stays a string; a large integer stays exact.
func TestParamsOverrides(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "params"),
		"--param", "s=42",
		"-p", "n=1234567890123",
		"-p", "f=0.125",
		"-p", "b=false",
		"-p", `l=[1,"x",{"y":2}]`,
		"-p", `d={"a":[1,2],"b":null}`,
		"-p", "opt=k=v",
	)
	mustSucceed(t, r, s, "echo-params", "echo-params-2")

	tk := s.task(t, "echo-params")
	wantOut(t, tk, "types", `{"s":"str","n":"int","f":"float","b":"bool","l":"list","d":"dict","opt":"str"}`)
	wantOut(t, tk, "s", `"42"`)
	wantOut(t, tk, "n", `1234567890123`)
	wantOut(t, tk, "f", `0.125`)
	wantOut(t, tk, "b", `false`)
	wantOut(t, tk, "l", `[1, "x", {"y": 2}]`)
	wantOut(t, tk, "d", `{"a": [1, 2], "b": null}`)
	wantOut(t, tk, "opt", `"k=v"`)
	wantIn(t, tk, "n", `1234567890123`)

	want := map[string]string{
		"s": `"42"`, "n": `1234567890123`, "f": `0.125`, "b": `false`,
		"l": `[1,"x",{"y":2}]`, "d": `{"a":[1,2],"b":null}`, "opt": `"k=v"`,
	}
	for name, w := range want {
		v, ok := s.Parameters[name]
		if !ok {
			t.Errorf("run parameters lack %q (have %s)", name, keys(s.Parameters))
			continue
		}
		wantJSON(t, "run parameter "+name, v, w)
	}

	// The constants of the second task are not affected by -p.
	c := s.task(t, "echo-params-2")
	wantOut(t, c, "s", `"const"`)
	wantOut(t, c, "n", `-5`)
}

// TestNamedTupleOutputs: each field of a NamedTuple output, and a parameter
// written through OutputPath(str), reaches the consumer with its type.
func TestNamedTupleOutputs(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "namedtuple"), "-p", "n=7")
	mustSucceed(t, r, s, "split", "shout", "combine")

	split := s.task(t, "split")
	wantOut(t, split, "half", `3`)
	wantOut(t, split, "label", `"n7"`)
	wantOut(t, split, "ratio", `0.875`)
	wantOut(t, split, "even", `false`)
	wantOut(t, split, "parts", `[3, 4]`)

	shout := s.task(t, "shout")
	wantIn(t, shout, "text", `"n7"`)
	wantOut(t, shout, "loud", `"N7!"`)

	combine := s.task(t, "combine")
	wantIn(t, combine, "half", `3`)
	wantIn(t, combine, "parts", `[3, 4]`)
	wantIn(t, combine, "loud", `"N7!"`)
	wantOut(t, combine, "Output", `"n7|3|0.875|False|[3, 4]|N7!|int,str,float,bool,list,str"`)
}

// TestArtifactPassing: a Dataset with metadata flows into a Model producer,
// which reads its file and metadata; the files live at the documented URIs
// under the default pipeline root $WEIR_HOME/artifacts.
func TestArtifactPassing(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "artifacts"))
	mustSucceed(t, r, s, "make-data", "train", "inspect-model", "read-summary")
	root := filepath.Join(home, "artifacts")
	const csv = "x,y\n0,0\n1,1\n2,4\n"
	const dataMeta = `{"rows": 3, "source": "e2e-generator", "columns": ["x", "y"]}`

	mk := s.task(t, "make-data")
	data := artifact(t, mk, mk.Outputs, "data")
	wantArtifactURI(t, data, root, s, "make-data", "data")
	if data.Type != "system.Dataset" {
		t.Errorf("data type = %q, want system.Dataset", data.Type)
	}
	wantJSON(t, "make-data data metadata", data.Metadata, dataMeta)
	if got := readFile(t, data.URI); got != csv {
		t.Errorf("data file = %q, want %q", got, csv)
	}
	wantIn(t, mk, "rows", `3`)

	tr := s.task(t, "train")
	in := artifact(t, tr, tr.Inputs, "data")
	if in.URI != data.URI {
		t.Errorf("train input data uri = %q, want the producer's %q", in.URI, data.URI)
	}
	wantJSON(t, "train input data metadata", in.Metadata, dataMeta)
	wantOut(t, tr, "content", mustJSON(t, csv))
	wantOut(t, tr, "rows", `"3"`)
	wantOut(t, tr, "source", `"e2e-generator"`)
	wantOut(t, tr, "uri", mustJSON(t, data.URI))
	wantOut(t, tr, "meta", dataMeta)

	model := artifact(t, tr, tr.Outputs, "model")
	wantArtifactURI(t, model, root, s, "train", "model")
	if model.Type != "system.Model" {
		t.Errorf("model type = %q, want system.Model", model.Type)
	}
	wantJSON(t, "model metadata", model.Metadata, `{"framework": "none", "rows_seen": 3}`)
	const modelText = "model trained on 3 rows from e2e-generator"
	if got := readFile(t, model.URI); got != modelText {
		t.Errorf("model file = %q, want %q", got, modelText)
	}

	im := s.task(t, "inspect-model")
	wantJSON(t, "inspect-model input model metadata", artifact(t, im, im.Inputs, "model").Metadata, `{"framework": "none", "rows_seen": 3}`)
	wantOut(t, im, "Output", mustJSON(t, "none:"+modelText))
	summary := artifact(t, im, im.Outputs, "summary")
	if summary.Type != "system.Markdown" {
		t.Errorf("summary type = %q, want system.Markdown", summary.Type)
	}
	mdText := "# none\n" + modelText + "\n"
	if got := readFile(t, summary.URI); got != mdText {
		t.Errorf("summary file = %q, want %q", got, mdText)
	}

	rs := s.task(t, "read-summary")
	wantOut(t, rs, "Output", mustJSON(t, mdText))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// branchInterval is what a diamond branch reports about itself.
type branchInterval struct {
	Side       string
	Value      string
	Start, End float64
}

func diamondBranch(t *testing.T, s *Summary, name string) branchInterval {
	t.Helper()
	out := outStruct(t, s.task(t, name), "Output")
	num := func(k string) float64 {
		n, ok := out[k].(json.Number)
		if !ok {
			t.Fatalf("task %s: Output.%s = %#v, want a number", name, k, out[k])
		}
		f, err := n.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	side, _ := out["side"].(string)
	return branchInterval{Side: side, Value: canon(t, out["value"]), Start: num("start"), End: num("end")}
}

// TestDiamondParallel: the two branches fan out from one source and must run
// at the same time (each waits for the other), then fan back in.
func TestDiamondParallel(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	rendezvous := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "diamond"),
		"--parallelism", "2", "-p", "rendezvous="+rendezvous, "-p", "hold=0.2")
	mustSucceed(t, r, s, "source", "branch", "branch-2", "join")

	wantOut(t, s.task(t, "source"), "Output", `5`)
	left, right := diamondBranch(t, s, "branch"), diamondBranch(t, s, "branch-2")
	if left.Side != "left" || left.Value != "10" {
		t.Errorf("branch = %+v, want side left, value 10", left)
	}
	if right.Side != "right" || right.Value != "50" {
		t.Errorf("branch-2 = %+v, want side right, value 50", right)
	}
	if !(left.Start < right.End && right.Start < left.End) {
		t.Errorf("branches did not overlap: left [%f, %f], right [%f, %f]", left.Start, left.End, right.Start, right.End)
	}
	for _, side := range []string{"left", "right"} {
		if _, err := os.Stat(filepath.Join(rendezvous, side)); err != nil {
			t.Errorf("rendezvous marker: %v", err)
		}
	}
	// Fan-in: join received exactly what each branch produced.
	j := s.task(t, "join")
	wantIn(t, j, "a", canon(t, outStruct(t, s.task(t, "branch"), "Output")))
	wantIn(t, j, "b", canon(t, outStruct(t, s.task(t, "branch-2"), "Output")))
	wantOut(t, j, "Output", `"left=10,right=50,sum=60"`)
}

// TestDiamondSequential: with --parallelism 1 the branches never overlap and
// the result is the same.
func TestDiamondSequential(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "diamond"),
		"--parallelism", "1", "-p", "x=1", "-p", "hold=0.5")
	mustSucceed(t, r, s, "source", "branch", "branch-2", "join")

	wantOut(t, s.task(t, "source"), "Output", `2`)
	left, right := diamondBranch(t, s, "branch"), diamondBranch(t, s, "branch-2")
	if left.Value != "4" || right.Value != "20" {
		t.Errorf("branch values = %s, %s; want 4, 20", left.Value, right.Value)
	}
	if left.Start < right.End && right.Start < left.End {
		t.Errorf("with --parallelism 1 the branches overlapped: left [%f, %f], right [%f, %f]", left.Start, left.End, right.Start, right.End)
	}
	if got := outString(t, s.task(t, "join"), "Output"); got != "left=4,right=20,sum=24" {
		t.Errorf("join Output = %q, want %q", got, "left=4,right=20,sum=24")
	}
	if !strings.HasPrefix(s.task(t, "join").Log, "/") {
		t.Errorf("join log = %q, want an absolute path", s.task(t, "join").Log)
	}
}
