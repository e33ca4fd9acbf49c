package engine

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
)

func TestWorkDirsReuseOnlyEmpty(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, files ...string) string {
		d := filepath.Join(root, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(d, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	var w workDirs
	if w.take(filepath.Join(root, "x")) {
		t.Fatal("took a directory from an empty pool")
	}
	empty := mk("a.1")
	full := mk("b.1", "executor_output.json")
	w.give(empty)
	w.give(full)
	next := filepath.Join(root, "c.1")
	// The last one offered is tried first: it holds a file, so it stays
	// as it is and the empty one serves instead.
	if !w.take(next) {
		t.Fatal("an empty spare directory was not reused")
	}
	if _, err := os.Stat(next); err != nil {
		t.Fatalf("the new work directory: %v", err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Fatalf("the reused directory is still under its old name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(full, "executor_output.json")); err != nil {
		t.Fatalf("a directory with files was touched: %v", err)
	}
	if w.take(filepath.Join(root, "d.1")) {
		t.Fatal("a directory with files, or none, was handed out")
	}
	// A spare that vanished is skipped.
	w.give(filepath.Join(root, "gone"))
	if w.take(filepath.Join(root, "e.1")) {
		t.Fatal("a missing spare directory was handed out")
	}
	// Nor is one whose permissions the step changed.
	locked := mk("f.1")
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	w.give(locked)
	if w.take(filepath.Join(root, "g.1")) {
		t.Fatal("a directory whose mode a step changed was handed out")
	}
	for range maxSpareDirs + 5 {
		w.give(empty)
	}
	if len(w.spare) != maxSpareDirs {
		t.Fatalf("%d spare directories kept, want at most %d", len(w.spare), maxSpareDirs)
	}
}

func TestReusableDir(t *testing.T) {
	d := filepath.Join(t.TempDir(), "w")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if ok, err := reusableDir(d); err != nil || !ok {
		t.Fatalf("new directory: %v, %v", ok, err)
	}
	if err := os.Mkdir(filepath.Join(d, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if ok, err := reusableDir(d); err != nil || ok {
		t.Fatalf("with a subdirectory: %v, %v", ok, err)
	}
	if _, err := reusableDir(filepath.Join(d, "nope")); err == nil {
		t.Fatal("a missing directory has no error")
	}
}

// TestSequentialStepsShareAWorkDir runs three steps one after the other
// that leave their work directories empty: each one's directory is the
// previous one's, renamed, and the run ends with a single one, named for
// the last attempt. Every attempt still had its own log path and a work
// directory of its own while it ran.
func TestSequentialStepsShareAWorkDir(t *testing.T) {
	h := newHarness(t, 1)
	h.exec.silent = true
	seen := map[string]bool{}
	h.exec.onStart = func(s executor.Spec) {
		if _, err := os.Stat(s.Dir); err != nil {
			t.Errorf("attempt %s started without its work directory: %v", s.AttemptID, err)
		}
		if ok, _ := reusableDir(s.Dir); !ok {
			t.Errorf("attempt %s: work directory %s not empty, or not as a new one", s.AttemptID, s.Dir)
		}
		seen[s.Dir] = true
	}
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	r := h.submit([]byte(threeStepsSpec), nil)
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil || final.Phase != run.Succeeded {
		t.Fatalf("run: %v, %v", final, err)
	}
	if len(seen) != 3 {
		t.Fatalf("work directories: %v; want one per attempt", seen)
	}
	entries, err := os.ReadDir(filepath.Join(h.home, "runs", r.ID))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	if len(dirs) != 1 || dirs[0] != "c.1" {
		t.Fatalf("work directories left: %v; want only c.1, the others reused", dirs)
	}
}

// TestStepOutputsKeepTheirWorkDir checks that a work directory holding what
// its step wrote is not reused.
func TestStepOutputsKeepTheirWorkDir(t *testing.T) {
	h := newHarness(t, 1)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	r := h.submit([]byte(threeStepsSpec), nil)
	if final, err := h.eng.Execute(context.Background(), r.ID); err != nil || final.Phase != run.Succeeded {
		t.Fatalf("run: %v, %v", final, err)
	}
	for _, name := range []string{"a.1", "b.1", "c.1"} {
		if _, err := os.Stat(filepath.Join(h.home, "runs", r.ID, name, "executor_output.json")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

const threeStepsSpec = `
pipelineInfo: {name: three}
root:
  dag:
    tasks:
      a: {taskInfo: {name: a}, componentRef: {name: comp-s}}
      b: {taskInfo: {name: b}, componentRef: {name: comp-s}, dependentTasks: [a]}
      c: {taskInfo: {name: c}, componentRef: {name: comp-s}, dependentTasks: [b]}
components:
  comp-s: {executorLabel: exec-s}
deploymentSpec:
  executors:
    exec-s: {container: {image: x, command: ["true"]}}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.0
`
