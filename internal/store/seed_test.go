package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
	"github.com/weir-dev/weir/internal/store/storetest"
)

// onlyDatabase fails t unless dir holds nothing but the database named
// base and the files SQLite keeps beside it: seeding leaves no temporary
// file behind.
func onlyDatabase(t *testing.T, dir, base string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case base, base + "-wal", base + "-shm":
		default:
			t.Errorf("%s holds %s", dir, e.Name())
		}
	}
}

// A database seeded from the template is a working store.
func TestSQLiteSeededStore(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "home")
	path := filepath.Join(dir, "weir.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Apply(ctx, &run.Changes{NewRuns: storetest.SampleRuns("r1", "r2")}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.GetRun(ctx, "r1"); err != nil || r.ID != "r1" {
		t.Fatalf("GetRun(r1) = %v, %v", r, err)
	}
	if runs, err := s.ListRuns(ctx, 10); err != nil || len(runs) != 2 {
		t.Fatalf("ListRuns = %d runs, %v; want 2", len(runs), err)
	}
	onlyDatabase(t, dir, "weir.db")
}

// Opening an existing database, even an empty file, neither replaces nor
// rewrites it from the template.
func TestSQLiteSeedKeepsExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "weir.db")
	s, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &run.Changes{NewRuns: storetest.SampleRuns("r1")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err = store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRun(ctx, "r1"); err != nil {
		t.Errorf("run lost across reopen: %v", err)
	}
	s.Close()
	if after, err := os.Stat(path); err != nil || !os.SameFile(before, after) {
		t.Errorf("%s replaced on reopen (%v)", path, err)
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before, err = os.Stat(empty)
	if err != nil {
		t.Fatal(err)
	}
	s, err = store.OpenSQLite(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if after, err := os.Stat(empty); err != nil || !os.SameFile(before, after) {
		t.Errorf("%s replaced on open (%v)", empty, err)
	}
	store.NoSeedFiles(t, dir)
}

// Stores opening one new path at once all succeed and share a database.
func TestSQLiteConcurrentFreshOpen(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(round))
		path := filepath.Join(dir, "weir.db")
		stores := make([]*store.Store, 4)
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() {
				s, err := store.OpenSQLite(ctx, path)
				if err != nil {
					t.Errorf("opener %d: %v", i, err)
					return
				}
				stores[i] = s
			})
		}
		wg.Wait()
		if t.Failed() {
			for _, s := range stores {
				if s != nil {
					s.Close()
				}
			}
			t.FailNow()
		}
		if err := stores[0].Apply(ctx, &run.Changes{NewRuns: storetest.SampleRuns("r1")}); err != nil {
			t.Fatal(err)
		}
		for i, s := range stores {
			if runs, err := s.ListRuns(ctx, 10); err != nil || len(runs) != 1 || runs[0].ID != "r1" {
				t.Errorf("opener %d sees %d runs (%v), want r1 only", i, len(runs), err)
			}
			s.Close()
		}
		onlyDatabase(t, dir, "weir.db")
	}
}

// A database that cannot be created is an error that names it, and leaves
// nothing behind.
func TestSQLiteSeedUnwritableDir(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a directory this user cannot write to")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	path := filepath.Join(dir, "weir.db")
	s, err := store.OpenSQLite(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatalf("opened %s in a read-only directory", path)
	}
	if !strings.Contains(err.Error(), path) || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("error %q does not name %s or is not a permission error", err, path)
	}
	onlyDatabase(t, dir, "")
}
