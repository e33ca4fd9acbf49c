package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the SQLite template, "+templateFile)

// templateFile is where seed.go embeds sqliteTemplate from.
const templateFile = "template/weir.db.gz"

// TestTemplateIsCurrent builds a database by running every migration and
// compares it with one seeded from the embedded template, as left by the
// seeding alone: opening it would let goose make up for an outdated
// template. Under -update it regenerates the template from the migrated
// database instead.
func TestTemplateIsCurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	migrated := filepath.Join(dir, "migrated", "weir.db")
	s, err := openSQLite(ctx, migrated, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if *update {
		gz, err := buildTemplate(ctx, migrated)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(templateFile, gz, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", templateFile, len(gz))
		return
	}
	seeded := filepath.Join(dir, "seeded", "weir.db")
	if err := os.Mkdir(filepath.Dir(seeded), 0o755); err != nil {
		t.Fatal(err)
	}
	if ok, err := seedSQLite(seeded); !ok || err != nil {
		t.Fatalf("seed %s: %v, %v", seeded, ok, err)
	}
	want, got := describeSQLite(t, migrated), describeSQLite(t, seeded)
	if d := lineDiff(want, got); d != "" {
		t.Fatalf("%s is not the database the migrations build; regenerate it with\n"+
			"\tgo test ./internal/store -run TestTemplateIsCurrent -update\n"+
			"(- the migrations, + the template):\n%s", templateFile, d)
	}
}

// buildTemplate returns the database at path, migrated and closed, as a
// template: vacuumed, its write-ahead log checkpointed into it, and
// compressed.
func buildTemplate(ctx context.Context, path string) ([]byte, error) {
	db, err := sql.Open("sqlite", sqliteURI(path))
	if err != nil {
		return nil, err
	}
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%s-wal still holds %d bytes", path, fi.Size())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// describeSQLite lists, one per line, what a new database must have in
// common with every other: its schema, the migrations goose recorded, and
// the settings kept in the file's header. It leaves out what differs from
// one build to the next (root pages, goose's timestamps).
func describeSQLite(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", sqliteURI(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, p := range []string{"journal_mode", "page_size", "user_version", "application_id", "auto_vacuum", "encoding", "integrity_check"} {
		var v string
		if err := db.QueryRow(`PRAGMA ` + p).Scan(&v); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", path, p, err)
		}
		fmt.Fprintf(&b, "PRAGMA %s = %s\n", p, v)
	}
	rows, err := db.Query(`SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for rows.Next() {
		var typ, name, table, stmt string
		if err := rows.Scan(&typ, &name, &table, &stmt); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fmt.Fprintf(&b, "%s %s ON %s: %s\n", typ, name, table, strings.Join(strings.Fields(stmt), " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rows, err = db.Query(`SELECT version_id, is_applied FROM goose_db_version ORDER BY id`)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for rows.Next() {
		var version int64
		var applied bool
		if err := rows.Scan(&version, &applied); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fmt.Fprintf(&b, "goose version %d applied=%t\n", version, applied)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b.String()
}

// lineDiff returns the lines only want holds, prefixed with -, and those
// only got holds, with +; "" when both hold the same lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	if b.Len() == 0 && want != got {
		return "(the same lines, in another order)\n"
	}
	return b.String()
}

// A seeded database says when it was created, not when the template was,
// and has the permissions SQLite gives the databases it creates.
func TestSeededDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	before := time.Now().UTC().Add(-time.Second).Format(time.DateTime)
	seeded := filepath.Join(dir, "seeded.db")
	s, err := OpenSQLite(ctx, seeded)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.raw.QueryContext(ctx, `SELECT version_id, tstamp FROM goose_db_version ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		var version int64
		var at string
		if err := rows.Scan(&version, &at); err != nil {
			t.Fatal(err)
		}
		if at < before {
			t.Errorf("migration %d dated %s, before the database was opened (%s)", version, at, before)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("goose_db_version holds %d rows", n)
	}

	migrated := filepath.Join(dir, "migrated.db")
	m, err := openSQLite(ctx, migrated, false)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	si, err := os.Stat(seeded)
	if err != nil {
		t.Fatal(err)
	}
	mi, err := os.Stat(migrated)
	if err != nil {
		t.Fatal(err)
	}
	if si.Mode() != mi.Mode() {
		t.Errorf("seeded database has mode %v, one SQLite creates %v", si.Mode(), mi.Mode())
	}
}

// Of several openers seeding one path at once, exactly one creates it, and
// no temporary file outlives them.
func TestSeedSQLiteRace(t *testing.T) {
	dir := t.TempDir()
	for round := range 20 {
		path := filepath.Join(dir, fmt.Sprintf("weir%d.db", round))
		var wg sync.WaitGroup
		seeded := make([]bool, 8)
		for i := range seeded {
			wg.Go(func() {
				ok, err := seedSQLite(path)
				if err != nil {
					t.Error(err)
				}
				seeded[i] = ok
			})
		}
		wg.Wait()
		if n := len(slices.DeleteFunc(seeded, func(ok bool) bool { return !ok })); n != 1 {
			t.Errorf("%s seeded %d times", path, n)
		}
	}
	NoSeedFiles(t, dir)
}

// Only a path naming a file is seeded.
func TestSeedSQLiteNotAFile(t *testing.T) {
	for _, path := range []string{"", ":memory:"} {
		if ok, err := seedSQLite(path); ok || err != nil {
			t.Errorf("seedSQLite(%q) = %v, %v; want false, nil", path, ok, err)
		}
	}
	s, err := OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(":memory:"); err == nil {
		t.Error(`OpenSQLite(":memory:") created a file`)
	}
}

// BenchmarkOpenSQLite measures opening a new database from the template
// and by running the migrations, opening an up-to-date one, and the
// parts of seeding.
func BenchmarkOpenSQLite(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name        string
		useTemplate bool
	}{{"fresh-template", true}, {"fresh-migrations", false}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := b.TempDir()
			for i := 0; b.Loop(); i++ {
				s, err := openSQLite(ctx, filepath.Join(dir, fmt.Sprint(i), "weir.db"), bc.useTemplate)
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
	b.Run("existing", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "weir.db")
		s, err := OpenSQLite(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		for b.Loop() {
			s, err := OpenSQLite(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("seed-only", func(b *testing.B) {
		dir := b.TempDir()
		for i := 0; b.Loop(); i++ {
			if ok, err := seedSQLite(filepath.Join(dir, fmt.Sprint(i)+".db")); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("restamp-only", func(b *testing.B) {
		s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "weir.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for b.Loop() {
			if err := restampSeeded(ctx, s.db.raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
