package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// sqliteTemplate is a gzip-compressed SQLite database holding every
// migration in migrations/sqlite and nothing else, vacuumed, in WAL mode.
// A new database starts as a copy of it: running the migrations one
// statement at a time costs several times more than opening the database
// afterwards, as SQLite re-reads its schema after every change to it, and
// every new WEIR_HOME (every test, too) would pay that. Regenerate it with
// go test ./internal/store -run TestTemplateIsCurrent -update, which fails
// until it matches the migrations.
//
//go:embed template/weir.db.gz
var sqliteTemplate []byte

// seedSQLite creates the database file at path from sqliteTemplate when
// there is none, and reports whether it did. The caller then opens and
// migrates the database as usual: goose applies whatever the template
// lacks, so an outdated template costs time, never correctness.
//
// The template is written under a temporary name in the same directory,
// synced, and only then linked to path. The link fails if path exists, so
// two processes seeding the same path cannot replace each other's file (or
// one another's runs in it) and never see a partial one: the loser finds a
// whole database and opens that.
func seedSQLite(path string) (bool, error) {
	// The empty path and ":memory:" name databases SQLite keeps to itself.
	if path == "" || path == ":memory:" {
		return false, nil
	}
	// Anything but a missing file, even an error that hides whether one is
	// there, is left to SQLite to open or report.
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	// A write-ahead log without its database belongs to one that was
	// removed; SQLite would lay it over the template's pages. Without a
	// template SQLite deals with it as it always does.
	if _, err := os.Lstat(path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	tmp, err := createSeedFile(path)
	if err != nil {
		return false, fmt.Errorf("seed store %s: %w", path, err)
	}
	// The temporary name goes in every case: once linked, the file lives
	// on as path; otherwise it is garbage. Removing a file just created in
	// this directory does not fail in practice, and a leftover would be
	// harmless, so an error here does not fail the open.
	defer os.Remove(tmp.Name())
	if err := writeTemplate(tmp); err != nil {
		tmp.Close()
		return false, fmt.Errorf("seed store %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("seed store %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		// Whoever created path first seeded it (or SQLite did, for an
		// opener without a template); that database is the one to use.
		// Any other failure, such as a file system without hard links,
		// leaves path missing, and SQLite creates the database itself.
		return false, nil
	}
	return true, nil
}

// createSeedFile creates a new, hidden file beside path. It is created
// with the permissions SQLite gives a database it creates (0644 less the
// umask), which the database keeps once linked, and the write-ahead log
// copies.
func createSeedFile(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 10 {
		name := filepath.Join(dir, "."+base+".seed-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no free temporary name beside %s", path)
}

// writeTemplate decompresses sqliteTemplate into f and syncs f, so that
// the database is whole on disk before any name other than a temporary one
// refers to it.
func writeTemplate(f *os.File) error {
	zr, err := gzip.NewReader(bytes.NewReader(sqliteTemplate))
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	// Reading to the end checks the template's CRC.
	if _, err := io.Copy(f, zr); err != nil {
		return fmt.Errorf("decompress the template into %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", f.Name(), err)
	}
	return nil
}

// restampSeeded dates the migrations in a database just seeded from the
// template to now: the template's rows hold the time it was generated,
// and the table should say when this database got its schema.
func restampSeeded(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `UPDATE goose_db_version SET tstamp = datetime('now')`); err != nil {
		return fmt.Errorf("date the migrations: %w", err)
	}
	return nil
}
