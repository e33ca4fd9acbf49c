//go:build browser

package browser

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// runTimeout bounds a run of the iris example: its first run builds the
// Python environment with scikit-learn.
const runTimeout = 6 * time.Minute

// nodeSel selects the graph node of a task.
func nodeSel(task string) string {
	return fmt.Sprintf(`[data-testid=run-graph] [data-task=%s]`, jsString(task))
}

// uploadThroughForm uploads a file with the upload form's file input and
// returns the new pipeline's id (the page is then the pipeline's).
func uploadThroughForm(p *page, file, name string) string {
	p.t.Helper()
	p.open("/pipelines")
	p.click(`[data-testid=upload-open]`)
	p.do("choose "+file, chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=upload-file]`), []string{file}))
	waitFor[bool](p, "the chosen file", fmt.Sprintf(`document.querySelector('[data-testid=upload-dropzone]').textContent.includes(%s)`, jsString(filepath.Base(file))), stepTimeout)
	if name != "" {
		p.typeInto(`[data-testid=upload-name]`, name)
	}
	p.screenshot("upload")
	p.click(`[data-testid=upload-submit]`)
	return waitFor[string](p, "the pipeline's page", `location.pathname.startsWith('/pipelines/') && location.pathname.split('/')[2]`, stepTimeout)
}

// startRunFromPage starts a run from the create-run form the page shows,
// with a name and changed parameters, and returns the run's id (the page
// is then the run's).
func startRunFromPage(p *page, name string, params map[string]string) string {
	p.t.Helper()
	p.waitVisible(`[data-testid=run-form]`)
	p.typeInto(`[data-testid=run-name]`, name)
	for k, v := range params {
		p.typeInto(`[data-testid=param-`+k+`]`, v)
	}
	p.screenshot("create-run")
	p.click(`[data-testid=start-run]`)
	return waitFor[string](p, "the run's page", `/^\/runs\/[^/]+$/.test(location.pathname) && location.pathname !== '/runs/new' && location.pathname.split('/')[2]`, stepTimeout)
}

// waitStates waits until each task's node shows its state (or one of
// states separated by "|").
func waitStates(p *page, states map[string]string, timeout time.Duration) {
	p.t.Helper()
	var conds []string
	for task, state := range states {
		alts, _ := json.Marshal(strings.Split(state, "|"))
		conds = append(conds, fmt.Sprintf(`%s.includes(document.querySelector(%s)?.dataset.state)`, alts, jsString(nodeSel(task))))
	}
	waitFor[bool](p, fmt.Sprintf("task states %v", states), strings.Join(conds, " && "), timeout)
}

// paramRows reads a table's rows marked data-param: name -> the text of
// the row's cell at index col.
func paramRows(p *page, table string, col int) map[string]string {
	p.t.Helper()
	p.waitVisible(table)
	return eval[map[string]string](p, fmt.Sprintf(`Object.fromEntries([...document.querySelectorAll(%s)].map(r => [r.dataset.param, r.cells[%d].textContent.trim()]))`,
		jsString(table+" tr[data-param]"), col))
}

// TestIrisFlow goes through the interface as a person would: it uploads
// the iris example, starts a run with a changed parameter, watches its
// graph, opens a task's logs and the confusion matrix, starts a second
// run and compares the two.
func TestIrisFlow(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	p := newPage(t, s.URL)

	// Upload with the file input: the pipeline's page shows its graph and
	// its parameters.
	uploadThroughForm(p, pipelineFile(t, "iris"), "iris-browser")
	if h1 := p.text(`h1`); h1 != "iris-browser" {
		p.fail("pipeline page title %q, want iris-browser", h1)
	}
	for _, task := range []string{"preprocess", "train", "evaluate"} {
		p.waitVisible(nodeSel(task) + `[data-state=spec]`)
	}
	defaults := paramRows(p, `[data-testid=params-table]`, 2)
	if want := map[string]string{"max_depth": "3", "seed": "42", "test_size": "0.3"}; fmt.Sprint(defaults) != fmt.Sprint(want) {
		p.fail("pipeline parameters %v, want %v", defaults, want)
	}
	p.screenshot("pipeline")

	// Start a run with max_depth=2: the form starts from the defaults.
	p.click(`[data-testid=create-run]`)
	waitFor[bool](p, "the default max_depth", `document.querySelector('[data-testid=param-max_depth]')?.value === '3'`, stepTimeout)
	runA := startRunFromPage(p, "iris depth 2", map[string]string{"max_depth": "2"})
	p.click(`.run-info > summary`) // the run's details: its parameters
	if got := paramRows(p, `[data-testid=run-parameters]`, 1); got["max_depth"] != "2" || got["seed"] != "42" {
		p.fail("the run's parameters are %v, want max_depth 2 and the default seed 42", got)
	}
	p.screenshot("run-parameters")
	p.click(`.run-info > summary`)

	// Every task turns to succeeded in the run graph.
	waitFor[bool](p, "a task running", fmt.Sprintf(`!!document.querySelector(%s)`, jsString(`[data-testid=run-graph] [data-state=running]`)), runTimeout)
	p.screenshot("running")
	waitStates(p, map[string]string{"preprocess": "succeeded", "train": "succeeded", "evaluate": "succeeded"}, runTimeout)
	p.waitVisible(`.title-row .badge[data-state=succeeded]`)
	p.screenshot("succeeded")

	// train's panel: its inputs hold max_depth 2, its logs what it printed.
	p.click(nodeSel("train"))
	p.waitVisible(`[data-testid=task-panel][data-task=train]`)
	p.click(`[data-testid=tab-inputs]`)
	if got := paramRows(p, `[data-testid=task-panel] [data-testid=param-values]`, 1)["max_depth"]; got != "2" {
		p.fail("train's input max_depth is %q, want 2", got)
	}
	p.click(`[data-testid=tab-logs]`)
	waitFor[bool](p, "train's log", `(() => { const l = document.querySelector('[data-testid=logs-panel]'); return l?.dataset.status === 'done' && l.textContent.includes('trained a tree of depth 2'); })()`, stepTimeout)
	if !strings.Contains(p.path(), "tab=logs") {
		p.fail("the logs tab is not in the URL")
	}
	p.screenshot("logs")

	// The keyboard opens a task too: a focused node and Enter.
	p.click(`[data-testid=panel-close]`)
	waitFor[bool](p, "the panel to close", `!document.querySelector('[data-testid=task-panel]')`, stepTimeout)
	p.do("focus evaluate", chromedp.Focus(chromedp.CSS(`.react-flow__node[data-id=evaluate]`)))
	p.key("\r")
	p.waitVisible(`[data-testid=task-panel][data-task=evaluate]`)

	// evaluate's confusion matrix.
	p.click(`[data-testid=tab-outputs]`)
	p.click(`[data-testid=task-panel] [data-type="system.ClassificationMetrics"] [data-testid=artifact-view]`)
	p.waitVisible(`[data-testid=confusion-matrix]`)
	cm := eval[struct {
		Labels []string `json:"labels"`
		Cells  []string `json:"cells"`
	}](p, `(() => { const t = document.querySelector('[data-testid=confusion-matrix]');
		return { labels: [...t.querySelectorAll('thead th')].slice(1).map(th => th.textContent.trim()),
		         cells: [...t.querySelectorAll('tbody td')].map(td => td.textContent.trim()) }; })()`)
	total := 0
	for _, c := range cm.Cells {
		var n int
		if _, err := fmt.Sscan(c, &n); err != nil {
			p.fail("confusion matrix cell %q is not a count", c)
		}
		total += n
	}
	if strings.Join(cm.Labels, ",") != "setosa,versicolor,virginica" || len(cm.Cells) != 9 || total != 45 {
		p.fail("confusion matrix labels %v, cells %v (sum %d), want 3 iris classes, 9 cells, 45 test rows", cm.Labels, cm.Cells, total)
	}
	p.screenshot("confusion-matrix")

	// A second run, cloned from the first with max_depth=3.
	p.open("/runs/" + runA)
	p.click(`[data-testid=clone-run]`)
	waitFor[bool](p, "the cloned max_depth", `document.querySelector('[data-testid=param-max_depth]')?.value === '2'`, stepTimeout)
	runB := startRunFromPage(p, "iris depth 3", map[string]string{"max_depth": "3"})
	// preprocess has the same inputs as in the first run: its results are
	// reused (the cache).
	waitStates(p, map[string]string{"preprocess": "cached|succeeded", "train": "succeeded", "evaluate": "succeeded"}, runTimeout)

	// Compare them: both are there, max_depth is highlighted.
	p.open("/runs")
	for _, id := range []string{runA, runB} {
		p.click(fmt.Sprintf(`tr[data-run=%s] [data-testid=run-select]`, jsString(id)))
	}
	p.click(`[data-testid=compare-runs]`)
	p.waitVisible(`[data-testid=compare-table]`)
	heads := eval[[]string](p, `[...document.querySelectorAll('[data-testid=compare-table] thead th a')].map(a => a.textContent)`)
	if strings.Join(heads, ",") != "iris depth 2,iris depth 3" {
		p.fail("compared runs %v", heads)
	}
	rows := eval[map[string]struct {
		Differs   bool     `json:"differs"`
		Highlight bool     `json:"highlight"`
		Values    []string `json:"values"`
	}](p, `Object.fromEntries([...document.querySelectorAll('[data-testid=compare-table] tr[data-section=Parameters]')].map(r =>
		[r.dataset.key, { differs: r.dataset.differs === 'true', highlight: getComputedStyle(r.cells[1]).backgroundColor !== getComputedStyle(r.cells[0]).backgroundColor,
		                  values: [...r.cells].slice(1).map(c => c.textContent.trim()) }]))`)
	if d := rows["max_depth"]; !d.Differs || !d.Highlight || strings.Join(d.Values, ",") != "2,3" {
		p.fail("max_depth row %+v, want highlighted values 2 and 3 (rows %v)", d, rows)
	}
	if d := rows["seed"]; d.Differs || strings.Join(d.Values, ",") != "42,42" {
		p.fail("seed row %+v, want the same 42 twice", d)
	}
	if !eval[bool](p, `[...document.querySelectorAll('[data-testid=compare-table] tr[data-section=Metrics]')].some(r => r.dataset.key.endsWith('accuracy'))`) {
		p.fail("the comparison has no accuracy metric")
	}
	p.screenshot("compare")
}

// TestFailingRun uploads a pipeline by dropping its file, runs it, and
// finds out from the page what failed and why.
func TestFailingRun(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	p := newPage(t, s.URL)

	p.open("/pipelines")
	p.click(`[data-testid=upload-open]`)
	p.dropFile(`[data-testid=upload-dropzone]`, pipelineFile(t, "failing"))
	waitFor[bool](p, "the dropped file", `document.querySelector('[data-testid=upload-dropzone]').textContent.includes('failing.yaml')`, stepTimeout)
	p.screenshot("dropped")
	p.click(`[data-testid=upload-submit]`)
	p.waitVisible(nodeSel("explode") + `[data-state=spec]`)
	p.click(`[data-testid=create-run]`)
	startRunFromPage(p, "doomed", nil)

	waitStates(p, map[string]string{"prepare": "succeeded", "explode": "failed"}, runTimeout)
	p.waitVisible(`.title-row .badge[data-state=failed]`)
	msg := p.text(`[data-testid=run-error]`)
	if !strings.Contains(msg, "explode") {
		p.fail("the run's error %q does not name the failed task explode", msg)
	}
	if state := eval[string](p, `document.querySelector(`+jsString(nodeSel("after"))+`).dataset.state`); state == "succeeded" || state == "running" {
		p.fail("after, downstream of the failure, is %s", state)
	}
	p.screenshot("failed")

	// The banner leads to the failed task: its error, and its log.
	p.click(`[data-testid=show-failed-task]`)
	p.waitVisible(`[data-testid=task-panel][data-task=explode][data-state=failed]`)
	if e := p.text(`[data-testid=task-error]`); e == "" {
		p.fail("the failed task's panel shows no error")
	}
	p.click(`[data-testid=tab-logs]`)
	waitFor[bool](p, "explode's log", `(() => { const l = document.querySelector('[data-testid=logs-panel]'); return l?.dataset.status === 'done' && l.textContent.includes('weir-browser-boom'); })()`, stepTimeout)
	p.screenshot("failed-logs")
}

// TestErrorsAreShown: an invalid upload and an unknown run get a clear
// message, not a blank or broken page.
func TestErrorsAreShown(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	p := newPage(t, s.URL)
	dir := t.TempDir()

	for name, doc := range map[string]string{
		"broken.yaml":       "pipelineInfo: {name: x\nroot: [\n",
		"not-pipeline.yaml": "hello: world\n",
	} {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		p.open("/pipelines")
		p.click(`[data-testid=upload-open]`)
		p.do("choose "+name, chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=upload-file]`), []string{file}))
		waitFor[bool](p, "the chosen file", fmt.Sprintf(`document.querySelector('[data-testid=upload-dropzone]').textContent.includes(%s)`, jsString(name)), stepTimeout)
		p.click(`[data-testid=upload-submit]`)
		msg := p.text(`.upload [data-testid=error-banner]`)
		if !strings.HasPrefix(msg, "Upload failed: ") || len(msg) < len("Upload failed: ")+10 {
			p.fail("upload of %s: error banner %q, want a reason", name, msg)
		}
		t.Logf("%s: %s", name, msg)
		if path := p.path(); path != "/pipelines" {
			p.fail("a failed upload left the page for %s", path)
		}
		p.screenshot("invalid-upload")
	}
	p.waitVisible(`.empty`) // the list is still empty

	p.open("/runs/no-such-run")
	if msg := p.text(`[data-testid=error-banner]`); !strings.Contains(msg, "Cannot load the run") {
		p.fail("unknown run: %q", msg)
	}
	p.screenshot("unknown-run")
}
