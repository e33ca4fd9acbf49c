package store

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/weir-dev/weir/internal/run"
)

func openTestSQLite(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func nameRun(id, name string, at time.Time) *run.Run {
	return &run.Run{ID: id, PipelineName: "p", DisplayName: name, Spec: []byte("spec"), PipelineRoot: "/r", Phase: run.Succeeded, CreatedAt: at}
}

func containsOpts(subs ...string) ListOptions {
	var opts ListOptions
	for _, s := range subs {
		opts.Predicates = append(opts.Predicates, Predicate{Field: "display_name", Op: OpContains, Values: []any{s}})
	}
	return opts
}

func listedIDs(t *testing.T, s *Store, opts ListOptions) string {
	t.Helper()
	runs, page, err := s.ListRunsPage(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	if page.Total != len(runs) && opts.PageSize == 0 {
		t.Errorf("%v: total %d, %d listed", opts.Predicates, page.Total, len(runs))
	}
	return strings.Join(out, " ")
}

// asciiFold lowers ASCII letters only, as SQLite's LIKE compares.
func asciiFold(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// The trigram index serves the substrings it can (three characters or
// more, valid UTF-8 without NUL, on run names) and only those.
func TestNameCandidatesServe(t *testing.T) {
	ctx := context.Background()
	s := openTestSQLite(t, filepath.Join(t.TempDir(), "weir.db"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{nameRun("r1", "Hello World", time.Unix(1, 0)), nameRun("r2", "hello wörld", time.Unix(2, 0))}}))
	for _, c := range []struct {
		sub    string
		served bool
		want   string
	}{
		{"llo", true, "r1 r2"},
		{"LLO W", true, "r1 r2"},
		{"wör", true, "r2"},
		{"WÖR", true, ""}, // a candidate (the index folds Ö), which LIKE rejects
		{"lo", false, ""},
		{"", false, ""},
		{"a\x00bc", false, ""},
		{"ab\xffc", false, ""},
	} {
		ids, ok, err := s.nameCandidates(ctx, runsTable, containsOpts(c.sub))
		must(err)
		if ok != c.served {
			t.Errorf("nameCandidates(%q) served = %v, want %v", c.sub, ok, c.served)
		}
		if ok && c.sub == "WÖR" && len(ids) != 1 {
			t.Errorf("nameCandidates(%q) = %v, want r2 as a candidate", c.sub, ids)
		}
	}
	if _, ok, _ := s.nameCandidates(ctx, experimentsTable, ListOptions{Predicates: []Predicate{{Field: "name", Op: OpContains, Values: []any{"abc"}}}}); ok {
		t.Error("nameCandidates served experiments")
	}
	if _, ok, _ := s.nameCandidates(ctx, runsTable, ListOptions{Predicates: []Predicate{{Field: "description", Op: OpContains, Values: []any{"abc"}}}}); ok {
		t.Error("nameCandidates served another column")
	}
	if got := listedIDs(t, s, containsOpts("WÖR")); got != "" {
		t.Errorf("contains WÖR = %q, want nothing (LIKE folds ASCII only)", got)
	}
}

// Random names and substrings, with deletes: a listing holds exactly the
// runs whose name contains the substring, ASCII case ignored.
func TestNameIndexMatchesLike(t *testing.T) {
	ctx := context.Background()
	s := openTestSQLite(t, filepath.Join(t.TempDir(), "weir.db"))
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "A", "b", "B", "c", "%", "_", "\\", `"`, "'", " ", "-", "ü", "Ü", "ß", "日", "本", "0", "1"}
	word := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		return b.String()
	}
	names := map[string]string{}
	var runs []*run.Run
	for i := 0; i < 400; i++ {
		id := fmt.Sprintf("r%03d", i)
		names[id] = word(2 + rng.Intn(10))
		runs = append(runs, nameRun(id, names[id], time.Unix(int64(i), 0)))
	}
	if err := s.Apply(ctx, &run.Changes{NewRuns: runs}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i += 7 {
		id := fmt.Sprintf("r%03d", i)
		if err := s.DeleteRun(ctx, id); err != nil {
			t.Fatal(err)
		}
		delete(names, id)
	}
	for i := 0; i < 300; i++ {
		var sub string
		if i%2 == 0 {
			// A piece of a stored name, its ASCII case flipped at random.
			name := []rune(names[fmt.Sprintf("r%03d", 1+rng.Intn(399))])
			if len(name) == 0 {
				continue
			}
			lo := rng.Intn(len(name))
			hi := lo + 1 + rng.Intn(len(name)-lo)
			var b strings.Builder
			for _, r := range name[lo:hi] {
				if (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') && rng.Intn(2) == 0 {
					r ^= 'a' - 'A'
				}
				b.WriteRune(r)
			}
			sub = b.String()
		} else {
			sub = word(1 + rng.Intn(4))
		}
		var want []string
		for id := 399; id >= 0; id-- {
			if name, ok := names[fmt.Sprintf("r%03d", id)]; ok && strings.Contains(asciiFold(name), asciiFold(sub)) {
				want = append(want, fmt.Sprintf("r%03d", id))
			}
		}
		if got := listedIDs(t, s, containsOpts(sub)); got != strings.Join(want, " ") {
			t.Errorf("contains %q = %q, want %q", sub, got, strings.Join(want, " "))
		}
	}
}

// A run renamed by SQL, or inserted by a weir that predates the index (one
// that was downgraded to), is found by its name once the store is opened.
func TestNameIndexFollowsOtherWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "weir.db")
	s := openTestSQLite(t, path)
	if err := s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{nameRun("r1", "first name", time.Unix(1, 0)), nameRun("r2", "second name", time.Unix(2, 0))}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE runs SET display_name = 'renamed run' WHERE id = 'r1'`); err != nil {
		t.Fatal(err)
	}
	if got := listedIDs(t, s, containsOpts("renamed")); got != "r1" {
		t.Errorf("after a rename, contains renamed = %q, want r1", got)
	}
	if got := listedIDs(t, s, containsOpts("first")); got != "" {
		t.Errorf("after a rename, contains first = %q, want nothing", got)
	}
	// What an older weir does: insert a run, without indexing it.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO runs (id, pipeline_name, display_name, spec, pipeline_root, phase, created_at) VALUES ('r3', 'p', 'third name', 'spec', '/r', 'succeeded', 3000000)`); err != nil {
		t.Fatal(err)
	}
	if got := listedIDs(t, s, containsOpts("third")); got != "" {
		t.Fatalf("a run inserted without the store is indexed: %q", got)
	}
	s.Close()
	s = openTestSQLite(t, path)
	if got := listedIDs(t, s, containsOpts("third")); got != "r3" {
		t.Errorf("after reopening, contains third = %q, want r3", got)
	}
	if got := listedIDs(t, s, containsOpts(" name")); got != "r3 r2" {
		t.Errorf("after reopening, contains name = %q, want r3 r2", got)
	}
	var keys int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_name_keys`).Scan(&keys); err != nil || keys != 3 {
		t.Errorf("run_name_keys holds %d rows (%v), want 3", keys, err)
	}
	// Deleted by SQL: the trigger drops the entry.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM runs WHERE id = 'r2'`); err != nil {
		t.Fatal(err)
	}
	if got := listedIDs(t, s, containsOpts(" name")); got != "r3" {
		t.Errorf("after a delete, contains name = %q, want r3", got)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_name_keys`).Scan(&keys); err != nil || keys != 2 {
		t.Errorf("run_name_keys holds %d rows (%v), want 2", keys, err)
	}
}

// A run whose id has a key already (an entry INSERT OR REPLACE left
// behind, or one a trigger made) is indexed with its name, once.
func TestNameIndexKeyExists(t *testing.T) {
	ctx := context.Background()
	s := openTestSQLite(t, filepath.Join(t.TempDir(), "weir.db"))
	for _, q := range []string{
		`INSERT INTO run_name_keys (k, run_id) VALUES (7, 'r1')`,
		`INSERT INTO run_names (rowid, display_name) VALUES (7, 'stale name')`,
		// What a trigger indexing runs would do, besides the store.
		`CREATE TEMP TRIGGER index_too AFTER INSERT ON runs WHEN new.id = 'r2' BEGIN
			INSERT INTO run_name_keys (run_id) VALUES (new.id);
			INSERT INTO run_names (rowid, display_name) VALUES (last_insert_rowid(), new.display_name);
		END`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{nameRun("r1", "fresh name", time.Unix(1, 0)), nameRun("r2", "other name", time.Unix(2, 0))}}); err != nil {
		t.Fatal(err)
	}
	if got := listedIDs(t, s, containsOpts("stale")); got != "" {
		t.Errorf("contains stale = %q, want nothing", got)
	}
	if got := listedIDs(t, s, containsOpts("fresh")); got != "r1" {
		t.Errorf("contains fresh = %q, want r1", got)
	}
	if got := listedIDs(t, s, containsOpts(" name")); got != "r2 r1" {
		t.Errorf("contains name = %q, want r2 r1", got)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_names WHERE run_names MATCH '"name"'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("the index holds %d entries with name (%v), want 2", n, err)
	}
}

// Migration 00005 indexes the runs already stored.
func TestNameIndexMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "weir.db")
	s := openTestSQLite(t, path)
	raw := s.db.raw
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, mustSub(t, "migrations/sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"old alpha", "old beta", "OLD ALPHA 2"} {
		if _, err := raw.ExecContext(ctx, `INSERT INTO runs (id, pipeline_name, display_name, spec, pipeline_root, phase, created_at) VALUES (?, 'p', ?, 'spec', '/r', 'succeeded', ?)`,
			fmt.Sprintf("r%d", i), name, i); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTestSQLite(t, path)
	if got := listedIDs(t, s, containsOpts("ld alpha")); got != "r2 r0" {
		t.Errorf("after migrating, contains ld alpha = %q, want r2 r0", got)
	}
	var keys int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM run_name_keys`).Scan(&keys); err != nil || keys != 3 {
		t.Errorf("run_name_keys holds %d rows (%v), want 3", keys, err)
	}
}

func mustSub(t *testing.T, dir string) fs.FS {
	t.Helper()
	sub, err := fs.Sub(sqliteMigrations, dir)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}
