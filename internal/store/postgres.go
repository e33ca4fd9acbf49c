package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// ErrUnsupportedDatabase is returned by Open for a URL naming a database
// this build cannot use.
var ErrUnsupportedDatabase = errors.New("unsupported database")

// Pool settings of a Postgres store. Writes are short transactions, and the
// engine and the API share the pool; idle connections are recycled so that
// a restarted or failed-over server is picked up.
const (
	pgMaxOpenConns    = 16
	pgMaxIdleConns    = 8
	pgConnMaxIdleTime = 5 * time.Minute
	pgConnMaxLifetime = time.Hour
	pgConnectTimeout  = 10 * time.Second
)

// Open opens the store that dsn names: a postgres:// or postgresql:// URL
// opens PostgreSQL (OpenPostgres); anything else is the path of a SQLite
// file (OpenSQLite), optionally prefixed with file:.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case IsPostgresURL(dsn):
		return OpenPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "file:"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "file:"))
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("open store %s: %w: use a SQLite file path or a postgres:// URL", Redact(dsn), ErrUnsupportedDatabase)
	}
	return OpenSQLite(ctx, dsn)
}

// IsPostgresURL reports whether dsn is a PostgreSQL connection URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redact returns dsn with any password hidden, for logs and errors.
func Redact(dsn string) string {
	if !strings.Contains(dsn, "://") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable database URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// OpenPostgres connects to the PostgreSQL database at the URL
// (postgres://user:password@host:port/db?sslmode=...; every libpq parameter
// pgx knows is accepted, search_path included) and brings its schema up to
// date. Migrations take a session advisory lock, so that servers starting
// together do not migrate the same database at once.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	name := Redact(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// Deliberately not wrapped: the parse error holds the whole URL,
		// password included (in its text, or through its cause).
		return nil, fmt.Errorf("open store %s: invalid PostgreSQL URL", name)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(pgMaxOpenConns)
	db.SetMaxIdleConns(pgMaxIdleConns)
	db.SetConnMaxIdleTime(pgConnMaxIdleTime)
	db.SetConnMaxLifetime(pgConnMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", name, err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate store %s: %w", name, err)
	}
	if err := migrate(ctx, db, goose.DialectPostgres, postgresMigrations, "migrations/postgres", goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate store %s: %w", name, err)
	}
	s := &Store{db: &sqlDB{raw: db, dialect: dialectPostgres}}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", name, err)
	}
	return s, nil
}
