package local

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func writeExe(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPathCacheResolve(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	inB := writeExe(t, b, "tool")
	if err := os.WriteFile(filepath.Join(a, "tool"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	c := newPathCache()
	c.now = func() time.Time { return now }
	env := []string{"PATH=relative:" + a + ":" + b}

	got, err := c.resolve("tool", env)
	if err != nil || got != inB {
		t.Fatalf("resolve = %q, %v; want %q (the first executable file)", got, err, inB)
	}
	if got, _ := c.resolve("./tool", env); got != "./tool" {
		t.Errorf("a name with a slash is used as is, got %q", got)
	}

	// An executable that appears earlier in PATH is seen once the
	// remembered lookup is older than pathTTL, not before.
	inA := writeExe(t, a, "tool")
	if got, _ := c.resolve("tool", env); got != inB {
		t.Errorf("within the TTL: got %q, want the remembered %q", got, inB)
	}
	now = now.Add(pathTTL)
	if got, _ := c.resolve("tool", env); got != inA {
		t.Errorf("after the TTL: got %q, want %q", got, inA)
	}

	// A different PATH is a different lookup.
	if got, _ := c.resolve("tool", []string{"PATH=" + b}); got != inB {
		t.Errorf("other PATH: got %q, want %q", got, inB)
	}
	_, err = c.resolve("nosuch", env)
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing command: err = %v, want exec.ErrNotFound", err)
	}
	// Relative PATH entries are never searched.
	rel := t.TempDir()
	writeExe(t, rel, "reltool")
	t.Chdir(rel)
	if _, err := c.resolve("reltool", []string{"PATH=."}); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("relative PATH entry: err = %v, want exec.ErrNotFound", err)
	}
}

func TestPathCacheUsesProcessPath(t *testing.T) {
	d := t.TempDir()
	want := writeExe(t, d, "weir-test-tool")
	t.Setenv("PATH", d)
	got, err := newPathCache().resolve("weir-test-tool", []string{"OTHER=1"})
	if err != nil || got != want {
		t.Fatalf("resolve = %q, %v; want %q from the process's PATH", got, err, want)
	}
}
