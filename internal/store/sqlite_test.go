package store_test

import (
	"context"
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
