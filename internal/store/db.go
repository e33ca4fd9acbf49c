package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the SQL flavour of the database behind a store. Queries are
// written once, in the SQLite flavour (? placeholders); sqlDB adapts them.
type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

// sqlDB is the store's handle on its database. It runs queries written for
// SQLite on either dialect: on SQLite it passes everything through; on
// Postgres it rewrites the query text (see rebind) and the arguments (see
// args). It deliberately does not embed *sql.DB, so that a query cannot
// bypass the rewriting by calling a method this type does not wrap.
type sqlDB struct {
	raw     *sql.DB
	dialect dialect
	// ro, when set, serves the queries run outside transactions: on
	// SQLite, read-only connections beside raw's single one (see
	// openSQLiteReaders). Transactions, Exec and prepared statements
	// use raw.
	ro *sql.DB
}

// reader is the pool that serves queries outside transactions.
func (d *sqlDB) reader() *sql.DB {
	if d.ro != nil {
		return d.ro
	}
	return d.raw
}

func (d *sqlDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.reader().QueryContext(ctx, d.rebind(query), d.args(args)...)
}

func (d *sqlDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.reader().QueryRowContext(ctx, d.rebind(query), d.args(args)...)
}

func (d *sqlDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.raw.ExecContext(ctx, d.rebind(query), d.args(args)...)
}

// PrepareContext prepares the rewritten query; bind the statement to a
// transaction with sqlTx.StmtContext.
func (d *sqlDB) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.raw.PrepareContext(ctx, d.rebind(query))
}

func (d *sqlDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sqlTx, error) {
	tx, err := d.raw.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sqlTx{tx: tx, d: d}, nil
}

func (d *sqlDB) Close() error {
	var err error
	if d.ro != nil {
		err = d.ro.Close()
	}
	return errors.Join(err, d.raw.Close())
}

// forUpdate makes a SELECT lock the rows it reads until the transaction
// ends, where that is needed: on Postgres (read committed) a concurrent
// writer could otherwise change a row between the read and the update that
// depends on it. SQLite transactions start with the write lock
// (_txlock=immediate), so its queries stay as they are.
func (d *sqlDB) forUpdate(query string) string {
	if d.dialect == dialectPostgres {
		return query + " FOR UPDATE"
	}
	return query
}

// sqlTx is a transaction of a sqlDB, with the same rewriting.
type sqlTx struct {
	tx *sql.Tx
	d  *sqlDB
}

func (t *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.d.rebind(query), t.d.args(args)...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.d.rebind(query), t.d.args(args)...)
}

func (t *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.d.rebind(query), t.d.args(args)...)
}

// StmtContext binds a statement prepared by sqlDB.PrepareContext to the
// transaction (database/sql prepares it again on the transaction's
// connection when that is not the one it was prepared on).
func (t *sqlTx) StmtContext(ctx context.Context, st *sql.Stmt) *sqlStmt {
	return &sqlStmt{st: t.tx.StmtContext(ctx, st), d: t.d}
}

func (t *sqlTx) Commit() error   { return t.tx.Commit() }
func (t *sqlTx) Rollback() error { return t.tx.Rollback() }

// sqlStmt is a prepared statement whose query was rewritten when it was
// prepared; its arguments are rewritten at each call.
type sqlStmt struct {
	st *sql.Stmt
	d  *sqlDB
}

func (s *sqlStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return s.st.QueryContext(ctx, s.d.args(args)...)
}

func (s *sqlStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return s.st.QueryRowContext(ctx, s.d.args(args)...)
}

func (s *sqlStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return s.st.ExecContext(ctx, s.d.args(args)...)
}

// rebind adapts a query written for SQLite to the store's dialect.
func (d *sqlDB) rebind(query string) string {
	if d.dialect == dialectPostgres {
		return rebindPostgres(query)
	}
	return query
}

// rebindPostgres rewrites, outside string literals, quoted identifiers and
// comments:
//   - every ? placeholder to $1, $2, ... in order;
//   - the LIKE keyword to ILIKE: SQLite's LIKE ignores ASCII case and
//     Postgres's does not, and substring filters and id prefixes must match
//     the same rows on both.
//
// Literals are standard SQL strings ('it”s'); the queries use neither
// E'...' nor dollar quoting, nor Postgres's ? JSON operators.
func rebindPostgres(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := quotedEnd(query, i)
			b.WriteString(query[i:j])
			i = j
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(query) && isIdentPart(query[j]) {
				j++
			}
			if strings.EqualFold(query[i:j], "LIKE") {
				b.WriteString("ILIKE")
			} else {
				b.WriteString(query[i:j])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// quotedEnd returns the index just past the literal or quoted identifier
// that starts at i (a doubled quote character stands for itself).
func quotedEnd(q string, i int) int {
	quote := q[i]
	for j := i + 1; j < len(q); j++ {
		if q[j] != quote {
			continue
		}
		if j+1 < len(q) && q[j+1] == quote {
			j++
			continue
		}
		return j + 1
	}
	return len(q)
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

// args adapts query arguments to the store's dialect. On Postgres:
//   - a bool becomes 0 or 1: flags are INTEGER columns in both dialects
//     (SQLite has no boolean type; queries also compare them with 0 and 1);
//   - a string that is not valid UTF-8 or holds NUL bytes has those bytes
//     replaced by U+FFFD, which Postgres text cannot hold, so that a stray
//     byte in, say, an error message cannot make a whole batch fail (SQLite
//     stores the bytes as they are).
func (d *sqlDB) args(args []any) []any {
	if d.dialect != dialectPostgres {
		return args
	}
	var out []any // copied on the first change only
	for i, a := range args {
		var v any
		switch x := a.(type) {
		case bool:
			v = int64(0)
			if x {
				v = int64(1)
			}
		case string:
			if utf8.ValidString(x) && strings.IndexByte(x, 0) < 0 {
				continue
			}
			v = strings.ReplaceAll(strings.ToValidUTF8(x, "\uFFFD"), "\x00", "\uFFFD")
		default:
			continue
		}
		if out == nil {
			out = append([]any(nil), args...)
		}
		out[i] = v
	}
	if out == nil {
		return args
	}
	return out
}

// A constraint is the kind of integrity rule a write broke.
type constraint int

const (
	noConstraint constraint = iota
	uniqueConstraint
	foreignKeyConstraint
)

// violated classifies err by the constraint it reports, from the driver's
// error codes (SQLite extended result codes; Postgres SQLSTATE 23505 and
// 23503).
func violated(err error) constraint {
	if err == nil {
		return noConstraint
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return uniqueConstraint
		case "23503": // foreign_key_violation
			return foreignKeyConstraint
		}
		return noConstraint
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueConstraint
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyConstraint
		}
	}
	return noConstraint
}
