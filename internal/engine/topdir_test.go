package engine

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/run"
)

// topDirSupported skips the test when the filesystem of the test's
// temporary directories has no hierarchy-top flag (tmpfs, xfs, ...).
func topDirSupported(t *testing.T) {
	t.Helper()
	err := markHierarchyTop(t.TempDir())
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("the filesystem of %s has no hierarchy-top flag: %v", t.TempDir(), err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestMarkHierarchyTop(t *testing.T) {
	topDirSupported(t)
	dir := t.TempDir()
	if top, err := hierarchyTop(dir); err != nil || top {
		t.Fatalf("a new directory: top %v, %v; want an unmarked one", top, err)
	}
	for i := range 2 { // marking is idempotent
		if err := markHierarchyTop(dir); err != nil {
			t.Fatalf("mark %d: %v", i+1, err)
		}
		if top, err := hierarchyTop(dir); err != nil || !top {
			t.Fatalf("after mark %d: top %v, %v", i+1, top, err)
		}
	}
}

func TestMarkHierarchyTopMissingDir(t *testing.T) {
	err := markHierarchyTop(filepath.Join(t.TempDir(), "nope"))
	if err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("a missing directory: %v; want an error that is not ErrUnsupported", err)
	}
}

// TestRunsDirIsHierarchyTop checks that driving a run marks Home/runs, so
// that each run's directory is placed apart from recently deleted files.
func TestRunsDirIsHierarchyTop(t *testing.T) {
	topDirSupported(t)
	h := newHarness(t, 2)
	h.exec.auto = func(executor.Spec) (int, bool) { return 0, true }
	r := h.submit(chainSpec([][]int{nil, {0}}), nil)
	final, err := h.eng.Execute(context.Background(), r.ID)
	if err != nil || final.Phase != run.Succeeded {
		t.Fatalf("run: %v, %v", final, err)
	}
	if top, err := hierarchyTop(filepath.Join(h.home, "runs")); err != nil || !top {
		t.Fatalf("runs directory: top %v, %v; want it marked", top, err)
	}
}
