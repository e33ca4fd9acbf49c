package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
	"github.com/weir-dev/weir/internal/store/storetest"
)

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "weir.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSQLiteReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "weir.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &run.Changes{NewRuns: storetest.SampleRuns("r1")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetRun(ctx, "r1"); err != nil {
		t.Fatalf("run lost across reopen: %v", err)
	}
}

// A path may hold the characters a file: URI gives a meaning to: the store
// is the file at that path, not one named by a part of it.
func TestSQLitePathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i, name := range []string{"a#b", "c?d", "e%20f", "g%3fh"} {
		path := filepath.Join(dir, name, "weir.db")
		s, err := store.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		id := fmt.Sprintf("r%d", i)
		if err := s.Apply(ctx, &run.Changes{NewRuns: storetest.SampleRuns(id)}); err != nil {
			t.Fatal(err)
		}
		runs, err := s.ListRuns(ctx, 10)
		s.Close()
		if err != nil || len(runs) != 1 || runs[0].ID != id {
			t.Errorf("%s holds %d runs (%v), want only %s", path, len(runs), err, id)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 4 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want the four directories only", dir, names)
	}
}
