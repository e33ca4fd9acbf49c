// Package store persists runs, task runs, attempts, artifacts and lineage
// over database/sql. SQLite (modernc.org/sqlite, no cgo) is the embedded
// default; PostgreSQL (see OpenPostgres) serves shared deployments. The
// schema lives in embedded, append-only migrations, one set per dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// Store is a handle on the database.
type Store struct {
	db    *sqlDB
	stmts map[string]*sql.Stmt // the write path's prepared statements
}

// OpenSQLite opens (creating if needed, from a template: see seedSQLite)
// the SQLite database at path and brings its schema up to date.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	return openSQLite(ctx, path, true)
}

// openSQLite is OpenSQLite; without useTemplate, a missing database is
// built by running every migration, as TestTemplateIsCurrent does to
// check the template.
func openSQLite(ctx context.Context, path string, useTemplate bool) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	seeded := false
	if useTemplate {
		var err error
		if seeded, err = seedSQLite(path); err != nil {
			return nil, err
		}
	}
	dsn := sqliteURI(path) + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One connection serialises writers inside this process (reads outside
	// transactions have their own, see openSQLiteReaders); other processes
	// (the CLI reading runs) wait on busy_timeout.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if seeded {
		if err := restampSeeded(ctx, db); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	if err := migrate(ctx, db, goose.DialectSQLite3, sqliteMigrations, "migrations/sqlite"); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate store %s: %w", path, err)
	}
	s := &Store{db: &sqlDB{raw: db, dialect: dialectSQLite}}
	if err := s.reindexRunNames(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if s.db.ro, err = openSQLiteReaders(ctx, db, path); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// sqliteURI returns the file: URI of the database at path. SQLite decodes
// %XX escapes in a URI's path and ends the path at ? or #, so these three
// are escaped: unescaped, a path holding # (a Go subtest's temporary
// directory, say) opened the file named by what precedes it.
func sqliteURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// sqliteReaders is how many read-only connections a SQLite store keeps
// beside its writing one.
const sqliteReaders = 4

// openSQLiteReaders opens the read-only connections that serve a SQLite
// store's queries outside transactions, so that listings neither wait for
// the engine's writes nor hold them up, and run side by side: in WAL mode
// readers see the last commit and never block the writer. It returns nil
// (every query then shares the writing connection, as before) when the
// database is not in WAL mode, e.g. an in-memory one.
func openSQLiteReaders(ctx context.Context, db *sql.DB, path string) (*sql.DB, error) {
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return nil, fmt.Errorf("journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return nil, nil
	}
	ro, err := sql.Open("sqlite", sqliteURI(path)+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("read connections: %w", err)
	}
	ro.SetMaxOpenConns(sqliteReaders)
	ro.SetMaxIdleConns(sqliteReaders)
	if err := ro.PingContext(ctx); err != nil {
		ro.Close()
		return nil, fmt.Errorf("read connections: %w", err)
	}
	return ro, nil
}

func migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, fsys embed.FS, dir string, opts ...goose.ProviderOption) error {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db, sub, opts...)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close releases the database.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	return s.db.Close()
}

// stamp converts a time to the stored representation (Unix microseconds, 0
// for the zero time).
func stamp(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromStamp(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
