//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// semLoopWant describes a loop: the body task `child` of each iteration gets
// the item (JSON) as its input `in` and produces outs[i] (JSON) as its output
// `out`; the loop task's output `collected` is the list of outs in order.
// Empty in, out or collected skip those checks.
type semLoopWant struct {
	loop      string
	child     string
	in        string
	items     []string
	out       string
	outs      []string
	collected string
}

// semCheckLoop checks the loop task, one iteration task per item, the body task
// of each, and the collected output.
func semCheckLoop(t *testing.T, s *semSummary, w semLoopWant) {
	t.Helper()
	n := len(w.outs)
	if n == 0 {
		n = len(w.items)
	}
	semWantTask(t, s, w.loop, "loop", "succeeded", 0)
	its := semIterations(t, s, w.loop)
	if len(its) != n {
		t.Fatalf("loop %s has %d iterations, want %d", w.loop, len(its), n)
	}
	for i, it := range its {
		semWantTask(t, s, it, "iteration", "succeeded", 0)
		body := semWantRan(t, s, it+"/"+w.child)
		if w.in != "" {
			semIn(t, body, w.in, w.items[i])
		}
		if w.out != "" {
			semOut(t, body, w.out, w.outs[i])
		}
	}
	if w.collected != "" {
		semOut(t, s.task(t, w.loop), w.collected, "["+strings.Join(w.outs, ",")+"]")
	}
}

// TestSemanticsLoops: dsl.ParallelFor over a raw list, a pipeline parameter
// given on the command line, a Python List[int] return value, a container's
// list output file holding JSON text, raw dicts and parameter dicts with
// field access (parameterExpressionSelector), artifacts (an artifactIterator
// over a Collected list inside a nested pipeline) and a loop in a loop. Each
// loop's dsl.Collected list reaches its consumer in iteration order.
func TestSemanticsLoops(t *testing.T) {
	t.Parallel()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_loop"),
		"-p", `words=["one","two","three","four"]`)
	semWantRun(t, r, s, 0, "succeeded")
	for _, tk := range s.Tasks {
		if tk.Kind == "container" && (tk.State != "succeeded" || tk.Attempts != 1) {
			t.Errorf("task %s: state=%s attempts=%d, want succeeded in 1 attempt (no two steps share a cache key)", tk.Name, tk.State, tk.Attempts)
		}
	}
	// join's output is the list rendered into its command line.
	joined := func(task, want string) {
		t.Helper()
		tk := semWantRan(t, s, task)
		semIn(t, tk, "items", want)
		semWantJSONText(t, task+" output", tk.outText(t, "out"), want)
	}

	// 1. Raw list [3, 5, 2].
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-2", child: "times-ten", in: "v", items: []string{"3", "5", "2"},
		out: "out", outs: []string{"30", "50", "20"}, collected: "pipelinechannel--times-ten-out"})
	joined("join", `[30, 50, 20]`)

	// 2. Pipeline parameter, overridden with -p.
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-3", child: "echo", in: "v",
		items: []string{`"one"`, `"two"`, `"three"`, `"four"`},
		out:   "out", outs: []string{`"<one>"`, `"<two>"`, `"<three>"`, `"<four>"`}, collected: "pipelinechannel--echo-out"})
	semIn(t, s.task(t, "for-loop-3"), "pipelinechannel--words", `["one","two","three","four"]`)
	joined("join-2", `["<one>","<two>","<three>","<four>"]`)
	// A list parameter rendered into a command line is JSON text as a user
	// writes it: "<one>" stays "<one>", not the HTML-safe "\u003cone\u003e".
	if out := s.task(t, "join-2").outText(t, "out"); !strings.Contains(out, `"<one>"`) {
		t.Errorf("join-2 received the list as %q: the strings inside are escaped (want \"<one>\" verbatim, as json.dumps writes it)", out)
	}

	// 3. A Python component's List[int] return value.
	semOut(t, semWantRan(t, s, "make-ints"), "Output", `[1, 4, 9]`)
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-4", child: "times-ten-2", in: "v", items: []string{"1", "4", "9"},
		out: "out", outs: []string{"10", "40", "90"}, collected: "pipelinechannel--times-ten-2-out"})
	joined("join-3", `[10, 40, 90]`)

	// 4. A container's list output, written to its file as JSON text.
	semOut(t, semWantRan(t, s, "json-list"), "out", `["p", "q", "r s"]`)
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-5", child: "echo-2", in: "v", items: []string{`"p"`, `"q"`, `"r s"`},
		out: "out", outs: []string{`"<p>"`, `"<q>"`, `"<r s>"`}, collected: "pipelinechannel--echo-2-out"})
	joined("join-4", `["<p>", "<q>", "<r s>"]`)

	// 5. Dicts: item.a and item.b select fields; ints arrive as ints (the
	// parameter default is compiled as [{a: 1.0, b: one}, ...]).
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-7", child: "add", items: nil,
		out: "out", outs: []string{"11", "22"}, collected: "pipelinechannel--add-out"})
	semIn(t, s.task(t, "for-loop-7/0/add"), "a", "10")
	semIn(t, s.task(t, "for-loop-7/0/add"), "b", "1")
	semIn(t, s.task(t, "for-loop-7/1/add"), "a", "20")
	semIn(t, s.task(t, "for-loop-7/1/add"), "b", "2")
	joined("join-5", `[11, 22]`)
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-8", child: "pair", items: nil,
		out: "out", outs: []string{`"one=1"`, `"two=2"`}, collected: "pipelinechannel--pair-out"})
	semIn(t, s.task(t, "for-loop-8/0/pair"), "a", "1")
	semIn(t, s.task(t, "for-loop-8/0/pair"), "b", `"one"`)
	semIn(t, s.task(t, "for-loop-8/1/pair"), "a", "2")
	joined("join-6", `["one=1", "two=2"]`)

	// 6. Artifacts: three datasets collected from one loop, iterated over by
	// a loop inside the nested pipeline read-each.
	semCheckLoop(t, s, semLoopWant{loop: "for-loop-10", child: "make-data", in: "tag", items: []string{`"u"`, `"v"`, `"w"`}})
	var made []string
	for i, tag := range []string{"u", "v", "w"} {
		a := s.task(t, fmt.Sprintf("for-loop-10/%d/make-data", i)).outArt(t, "data")
		if got := readFile(t, a.URI); got != "data-"+tag {
			t.Errorf("for-loop-10/%d/make-data wrote %q, want %q", i, got, "data-"+tag)
		}
		made = append(made, a.URI)
	}
	loop10 := s.task(t, "for-loop-10")
	wantJSON(t, "for-loop-10 collected artifact uris", semURIs(loop10.arts(t, loop10.Outputs, "pipelinechannel--make-data-data", 3)), mustJSON(t, made))
	each := semWantTask(t, s, "read-each", "dag", "succeeded", 0)
	wantJSON(t, "read-each input datasets", semURIs(each.arts(t, each.Inputs, "datasets", 3)), mustJSON(t, made))
	semCheckLoop(t, s, semLoopWant{loop: "read-each/for-loop-1", child: "read-data", items: nil,
		out: "out", outs: []string{`"read:data-u"`, `"read:data-v"`, `"read:data-w"`}, collected: "pipelinechannel--read-data-out"})
	for i := range made {
		if in := s.task(t, fmt.Sprintf("read-each/for-loop-1/%d/read-data", i)).inArt(t, "data"); in.URI != made[i] || in.Type != "system.Dataset" {
			t.Errorf("read-each/for-loop-1/%d/read-data input = %+v, want the dataset %q", i, in, made[i])
		}
	}
	semOut(t, each, "Output", `["read:data-u", "read:data-v", "read:data-w"]`)
	joined("join-7", `["read:data-u", "read:data-v", "read:data-w"]`)

	// 7. A loop in a loop: the inner loop is collected in each outer
	// iteration, and those results collected again by the outer loop.
	semWantTask(t, s, "for-loop-12", "loop", "succeeded", 0)
	outer := semIterations(t, s, "for-loop-12")
	if len(outer) != 2 {
		t.Fatalf("for-loop-12 has %d iterations, want 2", len(outer))
	}
	var inner []string
	for i, o := range []string{"x", "y"} {
		it := outer[i]
		semIn(t, semWantTask(t, s, it, "iteration", "succeeded", 0), "pipelinechannel--loop-item-param-11", strconv.Quote(o))
		want := []string{strconv.Quote(o + "=5"), strconv.Quote(o + "=6"), strconv.Quote(o + "=7")}
		semCheckLoop(t, s, semLoopWant{loop: it + "/for-loop-14", child: "pair-2", in: "a", items: []string{"5", "6", "7"},
			out: "out", outs: want, collected: "pipelinechannel--pair-2-out"})
		for j := 0; j < 3; j++ {
			semIn(t, s.task(t, fmt.Sprintf("%s/for-loop-14/%d/pair-2", it, j)), "b", strconv.Quote(o))
		}
		list := "[" + strings.Join(want, ",") + "]"
		joined(it+"/join-8", list)
		inner = append(inner, s.task(t, it+"/join-8").outText(t, "out"))
	}
	// The outer collection holds each iteration's join-8 output, in order.
	semOut(t, s.task(t, "for-loop-12"), "pipelinechannel--join-8-out", mustJSON(t, inner))
	j9 := semWantRan(t, s, "join-9")
	semIn(t, j9, "items", mustJSON(t, inner))
	var got []string
	if err := json.Unmarshal([]byte(j9.outText(t, "out")), &got); err != nil || len(got) != 2 {
		t.Fatalf("join-9 output %q is not a list of two strings: %v", j9.outText(t, "out"), err)
	}
	for i, o := range []string{"x", "y"} {
		semWantJSONText(t, fmt.Sprintf("join-9 output[%d]", i), got[i], fmt.Sprintf(`["%s=5","%s=6","%s=7"]`, o, o, o))
	}
}

// TestSemanticsCollected: dsl.Collected fans in parameters and artifacts
// from a loop, and out of nested pipelines that return the collected lists;
// the Python consumer receives both lists in iteration order.
func TestSemanticsCollected(t *testing.T) {
	t.Parallel()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_collected"))
	semWantRun(t, r, s, 0, "succeeded")
	for _, tk := range s.Tasks {
		if tk.Kind == "container" && (tk.State != "succeeded" || tk.Attempts != 1) {
			t.Errorf("task %s: state=%s attempts=%d, want succeeded in 1 attempt", tk.Name, tk.State, tk.Attempts)
		}
	}

	// Directly from a loop over the parameter [3, 1, 4, 10, 5].
	xs := []int{3, 1, 4, 10, 5}
	loop := semWantTask(t, s, "for-loop-1", "loop", "succeeded", 0)
	its := semIterations(t, s, "for-loop-1")
	if len(its) != len(xs) {
		t.Fatalf("for-loop-1 has %d iterations, want %d", len(its), len(xs))
	}
	var squares []int
	var data []string
	for i, x := range xs {
		sq := semWantRan(t, s, its[i]+"/square")
		semIn(t, sq, "x", strconv.Itoa(x))
		semOut(t, sq, "out", strconv.Itoa(x*x))
		squares = append(squares, x*x)
		wd := semWantRan(t, s, its[i]+"/write-data")
		a := wd.outArt(t, "data")
		if got := readFile(t, a.URI); got != fmt.Sprintf("row-%d\n", x) {
			t.Errorf("%s wrote %q, want %q", wd.Name, got, fmt.Sprintf("row-%d\n", x))
		}
		data = append(data, a.URI)
	}
	semOut(t, loop, "pipelinechannel--square-out", mustJSON(t, squares))
	wantJSON(t, "for-loop-1 collected datasets", semURIs(loop.arts(t, loop.Outputs, "pipelinechannel--write-data-data", len(xs))), mustJSON(t, data))
	sum := semWantRan(t, s, "summarize")
	semIn(t, sum, "values", `[9, 1, 16, 100, 25]`)
	wantJSON(t, "summarize input datasets", semURIs(sum.arts(t, sum.Inputs, "datasets", len(xs))), mustJSON(t, data))
	semOut(t, sum, "Output", `"sum=151 values=[9, 1, 16, 100, 25] data=row-3|row-1|row-4|row-10|row-5"`)

	// Out of nested pipelines.
	fan := semWantTask(t, s, "fan", "dag", "succeeded", 0)
	semIn(t, fan, "xs", `[2, 7]`)
	semOut(t, fan, "Output", `[4, 49]`)
	semOut(t, semWantTask(t, s, "fan/for-loop-1", "loop", "succeeded", 0), "pipelinechannel--square-out", `[4, 49]`)
	for i, x := range []int{2, 7} {
		semOut(t, semWantRan(t, s, fmt.Sprintf("fan/for-loop-1/%d/square", i)), "out", strconv.Itoa(x*x))
	}
	fd := semWantTask(t, s, "fan-data", "dag", "succeeded", 0)
	var nested []string
	for i, x := range []int{6, 8, 9} {
		a := semWantRan(t, s, fmt.Sprintf("fan-data/for-loop-1/%d/write-data", i)).outArt(t, "data")
		if got := readFile(t, a.URI); got != fmt.Sprintf("row-%d\n", x) {
			t.Errorf("fan-data iteration %d wrote %q", i, got)
		}
		nested = append(nested, a.URI)
	}
	wantJSON(t, "fan-data Output", semURIs(fd.arts(t, fd.Outputs, "Output", 3)), mustJSON(t, nested))
	sum2 := semWantRan(t, s, "summarize-2")
	semIn(t, sum2, "values", `[4, 49]`)
	wantJSON(t, "summarize-2 input datasets", semURIs(sum2.arts(t, sum2.Inputs, "datasets", 3)), mustJSON(t, nested))
	semOut(t, sum2, "Output", `"sum=53 values=[4, 49] data=row-6|row-8|row-9"`)
}

// TestSemanticsLoopParallelism: ParallelFor(parallelism=2) never runs more
// than two iterations at once, and does run two at once; a sibling loop
// without a limit is not held back by it. --parallelism 8 keeps the run's
// own limit out of the way.
func TestSemanticsLoopParallelism(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_loop_parallelism"),
		"--parallelism", "8", "-p", "dir="+dir, "-p", "seconds=0.6")
	semWantRun(t, r, s, 0, "succeeded")
	// Raw-list loops: the compiler numbers the loop item (loop-item-param-1)
	// and then the loop (for-loop-2).
	semWantTask(t, s, "for-loop-2", "loop", "succeeded", 0)
	semWantTask(t, s, "for-loop-4", "loop", "succeeded", 0)
	if n, m := len(semIterations(t, s, "for-loop-2")), len(semIterations(t, s, "for-loop-4")); n != 6 || m != 3 {
		t.Fatalf("loops have %d and %d iterations, want 6 and 3", n, m)
	}
	var limited, free []semInterval
	for i := 0; i < 6; i++ {
		semOut(t, semWantRan(t, s, fmt.Sprintf("for-loop-2/%d/hold", i)), "out", strconv.Itoa(i))
		limited = append(limited, semInterval{strconv.Itoa(i),
			semReadFloat(t, filepath.Join(dir, fmt.Sprintf("%d.start", i))), semReadFloat(t, filepath.Join(dir, fmt.Sprintf("%d.end", i)))})
	}
	for i, item := range []int{10, 11, 12} {
		semOut(t, semWantRan(t, s, fmt.Sprintf("for-loop-4/%d/hold-2", i)), "out", strconv.Itoa(item))
		free = append(free, semInterval{strconv.Itoa(item),
			semReadFloat(t, filepath.Join(dir, fmt.Sprintf("%d.start", item))), semReadFloat(t, filepath.Join(dir, fmt.Sprintf("%d.end", item)))})
	}
	if got := semMaxOverlap(limited); got != 2 {
		t.Errorf("iterations of the parallelism=2 loop running at once: at most %d, want exactly 2: %+v", got, limited)
	}
	if got := semMaxOverlap(free); got != 3 {
		t.Errorf("iterations of the unlimited 3-item loop running at once: at most %d, want 3: %+v", got, free)
	}
}

// TestSemanticsLoop10000: a loop of 10,000 iterations of a trivial container
// step, collected: 10,000 values in order.
func TestSemanticsLoop10000(t *testing.T) {
	t.Parallel()
	const n = 10000
	start := time.Now()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_loop_big"), "-p", fmt.Sprintf("n=%d", n), "--parallelism", "2")
	t.Logf("weir run of %d iterations: wall time %v (run duration_ms %d), %d tasks in the summary, %d bytes of JSON",
		n, time.Since(start).Round(time.Millisecond), s.DurationMS, len(s.Tasks), len(r.stdout))
	semWantRun(t, r, s, 0, "succeeded")
	if want := 3 + 2*n; len(s.Tasks) != want {
		t.Errorf("%d tasks, want %d (make-items, the loop, gather, and an iteration and a step per item)", len(s.Tasks), want)
	}
	want := make([]string, n)
	ints := make([]int, n)
	for i := range want {
		want[i] = strconv.Itoa(i)
		ints[i] = i
	}
	wantList := mustJSON(t, want)
	semOut(t, semWantRan(t, s, "make-items"), "out", mustJSON(t, ints))
	if its := semIterations(t, s, "for-loop-1"); len(its) != n {
		t.Errorf("for-loop-1 has %d iterations, want %d", len(its), n)
	}
	bad := 0
	for _, tk := range s.Tasks {
		if tk.Kind == "container" && tk.State != "succeeded" {
			bad++
			if bad <= 5 {
				t.Errorf("task %s: state %s (%s)", tk.Name, tk.State, tk.Error)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d steps did not succeed", bad)
	}
	for _, i := range []int{0, 1, 4999, n - 1} {
		e := s.task(t, fmt.Sprintf("for-loop-1/%d/echo", i))
		semIn(t, e, "item", strconv.Quote(strconv.Itoa(i)))
		semOut(t, e, "out", strconv.Quote(strconv.Itoa(i)))
	}
	semOut(t, semWantTask(t, s, "for-loop-1", "loop", "succeeded", 0), "pipelinechannel--echo-out", wantList)
	g := semWantRan(t, s, "gather")
	semIn(t, g, "values", wantList)
	semWantJSONText(t, "gather output", g.outText(t, "out"), wantList)
}

// TestSemanticsNested: pipelines as components, three levels deep; the
// parameters and the artifact go down and the outputs come back up.
func TestSemanticsNested(t *testing.T) {
	t.Parallel()
	r, s := semRun(t, t.TempDir(), pipelineFile(t, "sem_nested"), "-p", "x=10", "-p", "prefix=deep")
	semWantRun(t, r, s, 0, "succeeded")
	semWantTasks(t, s, "make-text", "level1", "level1/level2", "level1/level2/inc", "level1/level2/level3",
		"level1/level2/level3/leaf", "level1/inc", "consume")

	src := semWantRan(t, s, "make-text").outArt(t, "data")
	if got := readFile(t, src.URI); got != "payload" {
		t.Errorf("make-text wrote %q", got)
	}
	l1 := semWantTask(t, s, "level1", "dag", "succeeded", 0)
	l2 := semWantTask(t, s, "level1/level2", "dag", "succeeded", 0)
	l3 := semWantTask(t, s, "level1/level2/level3", "dag", "succeeded", 0)
	leaf := semWantRan(t, s, "level1/level2/level3/leaf")
	for _, tk := range []*semTask{l1, l2, l3, leaf} {
		if in := tk.inArt(t, "data"); in.URI != src.URI {
			t.Errorf("%s input data uri = %q, want make-text's %q", tk.Name, in.URI, src.URI)
		}
	}
	semIn(t, l1, "x", "10")
	semIn(t, l1, "prefix", `"deep"`)
	semIn(t, l2, "x", "10")
	semOut(t, semWantRan(t, s, "level1/level2/inc"), "out", "11")
	semIn(t, l3, "x", "11")
	semIn(t, l3, "prefix", `"deep"`)
	semIn(t, leaf, "x", "11")
	semIn(t, leaf, "prefix", `"deep/l3"`)
	semOut(t, leaf, "y", "33")
	semOut(t, leaf, "label", `"deep/l3/payload"`)
	copied := leaf.outArt(t, "copy")
	if got := readFile(t, copied.URI); got != "payload+leaf" {
		t.Errorf("leaf copy = %q, want %q", got, "payload+leaf")
	}
	semOut(t, l3, "y", "33")
	semOut(t, l2, "y", "33")
	semIn(t, semWantRan(t, s, "level1/inc"), "x", "33")
	semOut(t, l1, "y", "34")
	for _, tk := range []*semTask{l3, l2, l1} {
		semOut(t, tk, "label", `"deep/l3/payload"`)
		if a := tk.outArt(t, "copy"); a.URI != copied.URI || a.Type != "system.Dataset" {
			t.Errorf("%s output copy = %+v, want the leaf's %q", tk.Name, a, copied.URI)
		}
	}
	c := semWantRan(t, s, "consume")
	semIn(t, c, "n", "34")
	semIn(t, c, "label", `"deep/l3/payload"`)
	if in := c.inArt(t, "data"); in.URI != copied.URI {
		t.Errorf("consume input data uri = %q, want %q", in.URI, copied.URI)
	}
	semOut(t, c, "out", `"n=34 label=deep/l3/payload data=payload+leaf"`)
}
