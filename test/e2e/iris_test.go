//go:build e2e

package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestIrisExample runs examples/iris with -p max_depth=2 (scikit-learn is
// installed into the shared Python environment cache).
func TestIrisExample(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r, s := runJSON(t, home, pipelineFile(t, "iris"), "-p", "max_depth=2")
	mustSucceed(t, r, s, "preprocess", "train", "evaluate")
	if s.Pipeline != "iris" {
		t.Errorf("pipeline = %q, want iris", s.Pipeline)
	}
	if v, ok := s.Parameters["max_depth"]; !ok {
		t.Errorf("run parameters lack max_depth (have %s)", keys(s.Parameters))
	} else {
		wantJSON(t, "run parameter max_depth", v, `2`)
	}
	root := filepath.Join(home, "artifacts")

	pre := s.task(t, "preprocess")
	wantIn(t, pre, "seed", `42`)
	wantIn(t, pre, "test_size", `0.3`)
	const header = "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),label"
	for name, rows := range map[string]int{"train_data": 105, "test_data": 45} {
		a := artifact(t, pre, pre.Outputs, name)
		wantArtifactURI(t, a, root, s, "preprocess", name)
		if a.Type != "system.Dataset" {
			t.Errorf("%s type = %q, want system.Dataset", name, a.Type)
		}
		lines := strings.Split(strings.TrimRight(readFile(t, a.URI), "\r\n"), "\n")
		if len(lines) != rows+1 || strings.TrimRight(lines[0], "\r") != header {
			t.Errorf("%s: %d lines starting %q, want a header %q and %d rows", name, len(lines), lines[0], header, rows)
		}
		wantJSON(t, name+" metadata rows", a.Metadata["rows"], itoa(rows))
	}

	tr := s.task(t, "train")
	wantIn(t, tr, "max_depth", `2`)
	model := artifact(t, tr, tr.Outputs, "model")
	wantArtifactURI(t, model, root, s, "train", "model")
	if model.Type != "system.Model" {
		t.Errorf("model type = %q, want system.Model", model.Type)
	}
	if b := readFile(t, model.URI); len(b) < 100 || b[0] != 0x80 {
		t.Errorf("model file %s is not a pickle (%d bytes)", model.URI, len(b))
	}
	wantJSON(t, "model metadata", model.Metadata, `{"framework": "sklearn", "max_depth": 2}`)

	ev := s.task(t, "evaluate")
	accNum, ok := ev.Outputs.Parameters["Output"].(json.Number)
	if !ok {
		t.Fatalf("evaluate Output = %#v, want a number", ev.Outputs.Parameters["Output"])
	}
	acc, err := accNum.Float64()
	if err != nil || acc <= 0 || acc > 1 {
		t.Errorf("accuracy = %v (%v), want a float in (0, 1]", accNum, err)
	}
	if in := artifact(t, ev, ev.Inputs, "model"); in.URI != model.URI {
		t.Errorf("evaluate read model %q, want %q", in.URI, model.URI)
	}

	metrics := artifact(t, ev, ev.Outputs, "metrics")
	if metrics.Type != "system.Metrics" {
		t.Errorf("metrics type = %q, want system.Metrics", metrics.Type)
	}
	if m, ok := metrics.Metadata["accuracy"].(json.Number); !ok {
		t.Errorf("metrics metadata %v has no numeric accuracy", metrics.Metadata)
	} else if f, _ := m.Float64(); f != acc {
		t.Errorf("metrics accuracy = %v, want the returned %v", f, acc)
	}
	if n, ok := metrics.Metadata["test_rows"].(json.Number); !ok || n.String() != "45" {
		t.Errorf("metrics test_rows = %#v, want 45", metrics.Metadata["test_rows"])
	}

	cm := artifact(t, ev, ev.Outputs, "confusion")
	if cm.Type != "system.ClassificationMetrics" {
		t.Errorf("confusion type = %q, want system.ClassificationMetrics", cm.Type)
	}
	checkConfusion(t, cm.Metadata, 45, acc)
}

// checkConfusion checks the confusionMatrix metadata that
// ClassificationMetrics.log_confusion_matrix writes.
func checkConfusion(t *testing.T, meta map[string]any, total int, acc float64) {
	t.Helper()
	var cm struct {
		AnnotationSpecs []struct {
			DisplayName string `json:"displayName"`
		} `json:"annotationSpecs"`
		Rows []struct {
			Row []float64 `json:"row"`
		} `json:"rows"`
	}
	raw, err := json.Marshal(meta["confusionMatrix"])
	if err != nil || json.Unmarshal(raw, &cm) != nil {
		t.Fatalf("confusion metadata %v has no confusionMatrix", meta)
	}
	var names []string
	for _, a := range cm.AnnotationSpecs {
		names = append(names, a.DisplayName)
	}
	if strings.Join(names, ",") != "setosa,versicolor,virginica" {
		t.Errorf("confusion matrix classes = %v, want setosa, versicolor, virginica", names)
	}
	if len(cm.Rows) != 3 {
		t.Fatalf("confusion matrix has %d rows, want 3: %s", len(cm.Rows), raw)
	}
	sum, diag := 0.0, 0.0
	for i, r := range cm.Rows {
		if len(r.Row) != 3 {
			t.Fatalf("confusion matrix row %d has %d cells, want 3: %s", i, len(r.Row), raw)
		}
		for j, v := range r.Row {
			sum += v
			if i == j {
				diag += v
			}
		}
	}
	if sum != float64(total) {
		t.Errorf("confusion matrix counts sum to %v, want %d", sum, total)
	}
	if got := diag / sum; got != acc {
		t.Errorf("confusion matrix accuracy %v differs from the returned accuracy %v", got, acc)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestIrisYAMLUpToDate: the committed examples/iris/pipeline.yaml is what
// the kfp SDK compiles from pipeline.py today.
func TestIrisYAMLUpToDate(t *testing.T) {
	t.Parallel()
	committed := readFile(t, filepath.Join(repoRoot, "examples", "iris", "pipeline.yaml"))
	if fresh := readFile(t, pipelineFile(t, "iris")); fresh != committed {
		t.Errorf("examples/iris/pipeline.yaml is stale: run `%s examples/iris/pipeline.py`", filepath.Base(kfpPython))
	}
}
