package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
	"github.com/weir-dev/weir/internal/store/storetest"
)

// postgresURL returns the server the Postgres tests use, or skips them:
// `go test ./...` needs no database. `make test-postgres` starts a private
// server and sets the variable.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("WEIR_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("WEIR_TEST_POSTGRES_URL is not set: skipping the PostgreSQL tests (run `make test-postgres`, or point the variable at a database where the tests may create schemas)")
	}
	return u
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns the URL of the same database with that schema as search_path, so
// that every test has its own tables and tests can run in parallel, even
// from several processes.
func freshSchema(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", store.Redact(base), err)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("WEIR_TEST_POSTGRES_URL is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) {
	base := postgresURL(t)
	storetest.Run(t, func(t *testing.T) *store.Store { return openPostgres(t, freshSchema(t, base)) })
}

func TestPostgresReopenKeepsData(t *testing.T) {
	dsn := freshSchema(t, postgresURL(t))
	ctx := context.Background()
	s, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, &run.Changes{NewRuns: storetest.SampleRuns("r1")}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openPostgres(t, dsn)
	if _, err := s.GetRun(ctx, "r1"); err != nil {
		t.Fatalf("run lost across reopen: %v", err)
	}
}

// Servers starting together on an empty database migrate it once: the
// others wait on the migration lock, then find the schema up to date.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := freshSchema(t, postgresURL(t))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.OpenPostgres(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestPostgresOpenErrorHidesPassword(t *testing.T) {
	_, err := store.OpenPostgres(context.Background(), "postgres://weir:s3cret@127.0.0.1:1/weir?connect_timeout=2")
	if err == nil {
		t.Fatal("connected to port 1")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestOpenPicksTheDialect(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "weir.db")
	for _, dsn := range []string{path, "file:" + path} {
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("Open(%s): %v", dsn, err)
		}
		s.Close()
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Open did not create the SQLite file: %v", err)
	}
	if _, err := store.Open(ctx, "mysql://u:p@h/db"); !errors.Is(err, store.ErrUnsupportedDatabase) {
		t.Errorf("Open(mysql://) = %v, want ErrUnsupportedDatabase", err)
	}
	for _, dsn := range []string{"postgres://h/db", "postgresql://h/db"} {
		if !store.IsPostgresURL(dsn) {
			t.Errorf("IsPostgresURL(%s) = false", dsn)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/weir/weir.db":                           "/var/lib/weir/weir.db",
		"postgres://weir:pw@db:5432/weir?sslmode=require": "postgres://weir:xxxxx@db:5432/weir?sslmode=require",
		"postgres://weir@db/weir?password=pw":             "postgres://weir@db/weir?password=xxxxx",
		"postgresql://db/weir":                            "postgresql://db/weir",
	} {
		if got := store.Redact(in); got != want {
			t.Errorf("Redact(%s) = %s, want %s", in, got, want)
		}
	}
}

// Every migration exists in both dialects, under the same name.
func TestMigrationsHaveTwins(t *testing.T) {
	names := func(dir string) []string {
		m, err := filepath.Glob(filepath.Join("migrations", dir, "*.sql"))
		if err != nil || len(m) == 0 {
			t.Fatalf("no migrations in %s: %v", dir, err)
		}
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		sort.Strings(m)
		return m
	}
	lite, pg := names("sqlite"), names("postgres")
	if strings.Join(lite, " ") != strings.Join(pg, " ") {
		t.Errorf("migrations differ between dialects:\n  sqlite:   %v\n  postgres: %v", lite, pg)
	}
}
