package server

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
)

// artsSpec writes a CSV dataset, a model directory, metrics, a confusion
// matrix and an HTML page; "use" reads the dataset. make is cached, use is
// not, so a second run consumes the first run's dataset.
const artsSpec = `
pipelineInfo: {name: arts}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
root:
  dag:
    tasks:
      make:
        taskInfo: {name: make}
        componentRef: {name: comp-make}
        cachingOptions: {enableCache: true}
      use:
        taskInfo: {name: use}
        componentRef: {name: comp-use}
        dependentTasks: [make]
        inputs:
          artifacts:
            data:
              taskOutputArtifact: {producerTask: make, outputArtifactKey: data}
components:
  comp-make:
    executorLabel: exec-make
    outputDefinitions:
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
        model: {artifactType: {schemaTitle: system.Model, schemaVersion: 0.0.1}}
        metrics: {artifactType: {schemaTitle: system.Metrics, schemaVersion: 0.0.1}}
        cm: {artifactType: {schemaTitle: system.ClassificationMetrics, schemaVersion: 0.0.1}}
        page: {artifactType: {schemaTitle: system.HTML, schemaVersion: 0.0.1}}
  comp-use:
    executorLabel: exec-use
    inputDefinitions:
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}}
deploymentSpec:
  executors:
    exec-make:
      container:
        image: alpine
        command:
        - sh
        - -c
        - |
          set -e
          printf 'name,score\na,1\n"b, c",2\n' > "$0"
          mkdir -p "$1/sub"
          echo weights > "$1/w.bin"
          echo cfg > "$1/sub/c.txt"
          : > "$2"
          : > "$3"
          echo '<h1>hi</h1>' > "$4"
          cat > "$5" <<'EOF'
          {"artifacts": {
            "metrics": {"artifacts": [{"metadata": {"accuracy": 0.9, "epochs": 3, "note": "x"}}]},
            "cm": {"artifacts": [{"metadata": {"confusionMatrix": {"annotationSpecs": [{"displayName": "cat"}, {"displayName": "dog"}],
              "rows": [{"row": [5, 1]}, {"row": [2, 7]}]}}}]}}}
          EOF
        - "{{$.outputs.artifacts['data'].path}}"
        - "{{$.outputs.artifacts['model'].path}}"
        - "{{$.outputs.artifacts['metrics'].path}}"
        - "{{$.outputs.artifacts['cm'].path}}"
        - "{{$.outputs.artifacts['page'].path}}"
        - "{{$.outputs.output_file}}"
    exec-use:
      container:
        image: alpine
        command: [sh, -c, 'cat "$0"', "{{$.inputs.artifacts['data'].path}}"]
`

// outputID returns the id of a task's output artifact, found by its URI.
func (e *weirEnv) outputID(t *testing.T, sum *report.Run, task, name string) string {
	t.Helper()
	for _, ts := range sum.Tasks {
		if ts.Name != task {
			continue
		}
		arts := ts.Outputs.Artifacts[name]
		if len(arts) != 1 {
			t.Fatalf("%s has no output %s: %+v", task, name, ts.Outputs)
		}
		a, err := e.st.ArtifactByURI(context.Background(), arts[0].URI)
		if err != nil || a == nil {
			t.Fatalf("artifact %s: %v", arts[0].URI, err)
		}
		return a.ID
	}
	t.Fatalf("no task %s", task)
	return ""
}

func TestArtifactsDownloadPreviewAndLineage(t *testing.T) {
	e := newWeirEnv(t)
	first := e.submit(t, artsSpec)
	sum := e.wait(t, first)
	if sum.State != run.Succeeded {
		t.Fatalf("run: %+v", sum)
	}
	second := e.submit(t, artsSpec)
	if s := e.wait(t, second); s.State != run.Succeeded {
		t.Fatalf("second run: %+v", s)
	}
	data := e.outputID(t, sum, "make", "data")
	base := e.ts.URL + weirAPI + "/artifacts/"

	// Metadata with producer and consumers.
	code, info := weirGetJSON(t, base+data)
	if code != 200 || info["type"] != "system.Dataset" || info["run_id"] != first || !strings.HasPrefix(info["digest"].(string), "sha256:") {
		t.Fatalf("artifact info: %d %v", code, info)
	}
	if p := info["producer"].(map[string]any); p["run_id"] != first || p["task"] != "make" || p["attempt"] != 1.0 || p["name"] != "data" {
		t.Errorf("producer = %v", p)
	}

	// Lineage across runs: both runs' "use" consumed it; the second run's
	// cached "make" reused it.
	code, lin := weirGetJSON(t, base+data+"/lineage")
	if code != 200 {
		t.Fatalf("lineage: %d %v", code, lin)
	}
	var consumers []string
	for _, c := range lin["consumers"].([]any) {
		c := c.(map[string]any)
		consumers = append(consumers, c["run_id"].(string)+"/"+c["task"].(string)+"/"+c["name"].(string))
	}
	sort.Strings(consumers)
	want := []string{first + "/use/data", second + "/use/data"}
	sort.Strings(want)
	if strings.Join(consumers, " ") != strings.Join(want, " ") {
		t.Errorf("consumers = %v, want %v", consumers, want)
	}
	if r := lin["reused"].([]any); len(r) != 1 || r[0].(map[string]any)["run_id"] != second {
		t.Errorf("reused = %v", r)
	}
	if lin["producer"].(map[string]any)["task"] != "make" {
		t.Errorf("lineage producer = %v", lin["producer"])
	}

	// A file downloads as it is.
	resp, body := weirGet(t, base+data+"/content")
	if resp.StatusCode != 200 || string(body) != "name,score\na,1\n\"b, c\",2\n" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename=data`) {
		t.Errorf("file download: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// A directory downloads as a tar.gz.
	model := e.outputID(t, sum, "make", "model")
	resp, err := http.Get(base + model + "/content")
	if err != nil {
		t.Fatal(err)
	}
	files := weirUntar(t, resp)
	if files["model/w.bin"] != "weights\n" || files["model/sub/c.txt"] != "cfg\n" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "model.tar.gz") {
		t.Errorf("directory download: %v %v", files, resp.Header)
	}

	// Previews.
	_, p := weirGetJSON(t, base+e.outputID(t, sum, "make", "metrics")+"/preview")
	if m, _ := p["metrics"].(map[string]any); p["kind"] != "metrics" || m["accuracy"] != 0.9 || m["epochs"] != 3.0 || m["note"] != nil {
		t.Errorf("metrics preview = %v", p)
	}
	_, p = weirGetJSON(t, base+e.outputID(t, sum, "make", "cm")+"/preview")
	cm, _ := p["confusion_matrix"].(map[string]any)
	if p["kind"] != "classification_metrics" || cm == nil || weirJSON(cm["labels"]) != `["cat","dog"]` || weirJSON(cm["rows"]) != `[[5,1],[2,7]]` {
		t.Errorf("confusion matrix preview = %v", p)
	}
	_, p = weirGetJSON(t, base+data+"/preview")
	if p["kind"] != "table" || p["format"] != "csv" || weirJSON(p["columns"]) != `["name","score"]` || weirJSON(p["rows"]) != `[["a","1"],["b, c","2"]]` {
		t.Errorf("csv preview = %v", p)
	}
	_, p = weirGetJSON(t, base+e.outputID(t, sum, "make", "page")+"/preview")
	if p["kind"] != "html" || p["text"] != "<h1>hi</h1>\n" {
		t.Errorf("html preview = %v", p)
	}
	_, p = weirGetJSON(t, base+model+"/preview")
	if p["kind"] != "none" || p["note"] == nil {
		t.Errorf("model preview = %v", p)
	}
	if code, _ := weirGetJSON(t, base+"no-such-artifact/content"); code != 404 {
		t.Errorf("unknown artifact: %d", code)
	}
}

// TestArtifactPathEscapesAreRefused records artifacts whose content lies
// outside the served roots: through "..", through a symbolic link, as a
// remote URI. None is served; a link inside a directory is left out.
func TestArtifactPathEscapesAreRefused(t *testing.T) {
	e := newWeirEnv(t)
	secret := filepath.Join(e.base, "secret.txt")
	weirWrite(t, secret, "do not serve")
	root := filepath.Join(e.home, "artifacts")
	weirWrite(t, filepath.Join(root, "ok.txt"), "fine")
	if err := os.Symlink(secret, filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "dir")
	weirWrite(t, filepath.Join(dir, "a.txt"), "a")
	if err := os.Symlink(secret, filepath.Join(dir, "leak.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "alias.txt")); err != nil {
		t.Fatal(err)
	}
	arts := map[string]string{
		"ok":     filepath.Join(root, "ok.txt"),
		"dotdot": root + "/../../secret.txt",
		"link":   filepath.Join(root, "link.txt"),
		"abs":    secret,
		"remote": "gs://bucket/secret.txt",
		"dir":    dir,
		"root":   e.home, // a root itself is never served whole
	}
	ch := &run.Changes{}
	for id, uri := range arts {
		ch.NewArtifacts = append(ch.NewArtifacts, &run.Artifact{ID: id, RunID: "r", URI: uri, SchemaTitle: "system.Dataset", CreatedAt: time.Now()})
	}
	if err := e.st.Apply(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	base := e.ts.URL + weirAPI + "/artifacts/"
	if resp, b := weirGet(t, base+"ok/content"); resp.StatusCode != 200 || string(b) != "fine" {
		t.Errorf("ok: %d %q", resp.StatusCode, b)
	}
	for _, id := range []string{"dotdot", "link", "abs", "remote", "root"} {
		for _, what := range []string{"/content", "/preview"} {
			resp, b := weirGet(t, base+id+what)
			if resp.StatusCode != http.StatusForbidden || strings.Contains(string(b), "do not serve") {
				t.Errorf("%s%s: %d %s, want 403", id, what, resp.StatusCode, b)
			}
		}
	}
	resp, err := http.Get(base + "dir/content")
	if err != nil {
		t.Fatal(err)
	}
	files := weirUntar(t, resp)
	if _, leaked := files["dir/leak.txt"]; leaked || files["dir/a.txt"] != "a" || files["dir/alias.txt"] != "a" {
		t.Errorf("directory with links: %v", files)
	}
}

func TestDataPreviewFormats(t *testing.T) {
	e := newWeirEnv(t)
	root := filepath.Join(e.home, "artifacts")
	lines := []string{}
	for i := 0; i < 30; i++ {
		lines = append(lines, "row "+strings.Repeat("x", i))
	}
	files := map[string]string{
		"tsv":   "a\tb\n1\t2\n3\t4\n",
		"jsonl": "{\"a\": 1}\n{\"a\": 2.5}\n",
		"text":  strings.Join(lines, "\n") + "\n",
		"bin":   "\x00\x01\x02",
	}
	ch := &run.Changes{}
	for id, content := range files {
		p := filepath.Join(root, id)
		weirWrite(t, p, content)
		ch.NewArtifacts = append(ch.NewArtifacts, &run.Artifact{ID: id, RunID: "r", URI: p, SchemaTitle: "system.Artifact", CreatedAt: time.Now()})
	}
	if err := e.st.Apply(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	base := e.ts.URL + weirAPI + "/artifacts/"
	if _, p := weirGetJSON(t, base+"tsv/preview"); p["format"] != "tsv" || weirJSON(p["rows"]) != `[["1","2"],["3","4"]]` {
		t.Errorf("tsv = %v", p)
	}
	if _, p := weirGetJSON(t, base+"jsonl/preview"); p["kind"] != "json_lines" || weirJSON(p["records"]) != `[{"a":1},{"a":2.5}]` {
		t.Errorf("jsonl = %v", p)
	}
	if _, p := weirGetJSON(t, base+"text/preview"); p["kind"] != "text" || len(p["lines"].([]any)) != previewRows || p["lines"].([]any)[1] != "row x" {
		t.Errorf("text = %v", p)
	}
	if _, p := weirGetJSON(t, base+"bin/preview"); p["kind"] != "none" {
		t.Errorf("binary = %v", p)
	}
}

func weirWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func weirUntar(t *testing.T, resp *http.Response) map[string]string {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = string(b)
	}
}
