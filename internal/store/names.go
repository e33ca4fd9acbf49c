package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The trigram index on run display names (SQLite only; migration 00005):
// run_names, a contentless FTS5 table whose rowids are the keys of
// run_name_keys, which maps them to run ids. The store indexes the runs it
// inserts (indexRunName, in the inserting transaction); triggers drop or
// re-index a run that is deleted or renamed, whoever does it.
//
// The store does the inserts rather than a trigger because that costs much
// less: with modernc.org/sqlite, firing a trigger, even one that does
// nothing, costs about as much as inserting the run, and an insert trigger
// made writing runs in bulk three times slower.
const (
	// nameIndexMinRunes is the shortest substring the index can look up:
	// the trigram tokenizer indexes runs of three characters.
	nameIndexMinRunes = 3
	// nameIndexMaxCandidates bounds the runs a lookup may name before the
	// store gives up on it and reads every run instead: each candidate
	// costs a read of its row, and past a few thousand of them one pass
	// over the runs_created index is cheaper.
	nameIndexMaxCandidates = 2000
)

// The statements that index a run's name, prepared with the write path's
// on SQLite.
const (
	sqlInsertNameKey = `INSERT INTO run_name_keys (run_id) VALUES (?) ON CONFLICT (run_id) DO NOTHING`
	sqlInsertName    = `INSERT INTO run_names (rowid, display_name) VALUES (?, ?)`
)

var sqliteWriteStatements = []string{sqlInsertNameKey, sqlInsertName}

// indexRunName adds a run that tx inserted to the name index. Its id
// normally has no key yet; when it has one (left behind by a row that
// INSERT OR REPLACE removed, which fires no delete trigger, or made by a
// trigger the database has besides), the entry under that key is replaced.
func (s *Store) indexRunName(ctx context.Context, tx *sqlTx, id, name string) error {
	res, err := s.stmt(ctx, tx, sqlInsertNameKey).ExecContext(ctx, id)
	if err != nil {
		return fmt.Errorf("index the name: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("index the name: %w", err)
	}
	var k int64
	if n == 1 {
		if k, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("index the name: %w", err)
		}
	} else {
		if err := tx.QueryRowContext(ctx, `SELECT k FROM run_name_keys WHERE run_id = ?`, id).Scan(&k); err != nil {
			return fmt.Errorf("index the name: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM run_names WHERE rowid = ?`, k); err != nil {
			return fmt.Errorf("index the name: %w", err)
		}
	}
	if _, err := s.stmt(ctx, tx, sqlInsertName).ExecContext(ctx, k, name); err != nil {
		return fmt.Errorf("index the name: %w", err)
	}
	return nil
}

// reindexRunNames brings the name index in step with runs when the two
// disagree, which the store's own writes never cause: a weir from before
// migration 00005 (after a downgrade) inserts runs without indexing them,
// and a run row removed without firing the delete trigger (INSERT OR
// REPLACE) leaves its entry behind. Opening a store compares the counts of
// both tables, in one snapshot (a few milliseconds with 100,000 runs), and
// repairs the index only when they differ.
func (s *Store) reindexRunNames(ctx context.Context) error {
	var runs, keys int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM run_name_keys)`).Scan(&runs, &keys); err != nil {
		return fmt.Errorf("check the run name index: %w", err)
	}
	if runs == keys {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("repair the run name index: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`DELETE FROM run_names WHERE rowid IN (SELECT k FROM run_name_keys WHERE run_id NOT IN (SELECT id FROM runs))`,
		`DELETE FROM run_name_keys WHERE run_id NOT IN (SELECT id FROM runs)`,
		`CREATE TEMP TABLE run_names_missing AS SELECT id, display_name FROM runs WHERE id NOT IN (SELECT run_id FROM run_name_keys)`,
		`INSERT INTO run_name_keys (run_id) SELECT id FROM run_names_missing`,
		`INSERT INTO run_names (rowid, display_name) SELECT k.k, m.display_name FROM run_names_missing m JOIN run_name_keys k ON k.run_id = m.id`,
		`DROP TABLE run_names_missing`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("repair the run name index: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("repair the run name index: %w", err)
	}
	return nil
}

// sqlNameCandidates returns the ids of the runs whose display name matches
// an FTS5 query, at most ? of them.
const sqlNameCandidates = `SELECT k.run_id FROM run_names JOIN run_name_keys k ON k.k = run_names.rowid WHERE run_names MATCH ? LIMIT ?`

// nameCandidates narrows a listing of runs with a substring filter on the
// display name: it returns the ids of a superset of the runs the filter
// matches, from the trigram index, and ok. It returns ok=false when the
// index cannot serve the listing: another table or dialect, no such
// filter, a substring too short for trigrams (or that FTS5 must not see:
// NUL bytes, invalid UTF-8), or more than nameIndexMaxCandidates
// candidates.
//
// The index folds case over all of Unicode where LIKE folds ASCII only, so
// it may name runs the filter then rejects, never the reverse: the caller
// keeps the filter's LIKE and adds "id IN (candidates)".
func (s *Store) nameCandidates(ctx context.Context, t table, opts ListOptions) (ids []string, ok bool, err error) {
	if s.db.dialect != dialectSQLite || t.name != runsTable.name {
		return nil, false, nil
	}
	var terms []string
	seen := map[string]bool{}
	for _, p := range opts.Predicates {
		if p.Op != OpContains || len(p.Values) != 1 || t.fields[p.Field] != "display_name" {
			continue
		}
		v := fmt.Sprint(p.Values[0])
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			continue
		}
		for _, tri := range trigramCover(v) {
			if !seen[tri] {
				seen[tri] = true
				terms = append(terms, ftsPhrase(tri))
			}
		}
	}
	if len(terms) == 0 {
		return nil, false, nil
	}
	query := strings.Join(terms, " AND ")
	rows, err := s.db.QueryContext(ctx, sqlNameCandidates, query, nameIndexMaxCandidates+1)
	if err != nil {
		return nil, false, fmt.Errorf("look up run names (%s): %w", query, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("look up run names (%s): %w", query, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("look up run names (%s): %w", query, err)
	}
	if len(ids) > nameIndexMaxCandidates {
		return nil, false, nil
	}
	return ids, true, nil
}

// trigramCover returns the fewest trigrams (runs of three characters) of s
// that cover it: from its start every third character, and the last three
// (nothing when s is shorter than three characters). A name that contains
// s contains each of them; the index finds the rows that contain them all,
// which is cheaper than matching s as a phrase of all its trigrams, and
// LIKE rejects the rows that hold them apart.
func trigramCover(s string) []string {
	r := []rune(s)
	if len(r) < nameIndexMinRunes {
		return nil
	}
	var out []string
	for i := 0; i+nameIndexMinRunes <= len(r); i += nameIndexMinRunes {
		out = append(out, string(r[i:i+nameIndexMinRunes]))
	}
	if len(r)%nameIndexMinRunes != 0 {
		out = append(out, string(r[len(r)-nameIndexMinRunes:]))
	}
	return out
}

// ftsPhrase quotes s as an FTS5 phrase: within double quotes every
// character stands for itself but the double quote, which is doubled.
// With the trigram tokenizer, a phrase of three characters is one term.
func ftsPhrase(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
