package store

import (
	"reflect"
	"testing"
)

func TestRebindPostgres(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT a FROM t WHERE id=? AND b IN (?,?)`:              `SELECT a FROM t WHERE id=$1 AND b IN ($2,$3)`,
		`SELECT '?' , "odd?col", x FROM t WHERE y=?`:             `SELECT '?' , "odd?col", x FROM t WHERE y=$1`,
		`SELECT 'it''s ?' WHERE a=? -- why?` + "\n" + `AND b=?`:  `SELECT 'it''s ?' WHERE a=$1 -- why?` + "\n" + `AND b=$2`,
		`SELECT /* ? */ a WHERE b=?`:                             `SELECT /* ? */ a WHERE b=$1`,
		`WHERE id LIKE ? ESCAPE '\'`:                             `WHERE id ILIKE $1 ESCAPE '\'`,
		`WHERE name like ? AND unlike_col = 'LIKE' AND likely=?`: `WHERE name ILIKE $1 AND unlike_col = 'LIKE' AND likely=$2`,
		`UPDATE runs SET phase=?, error='' WHERE id=?`:           `UPDATE runs SET phase=$1, error='' WHERE id=$2`,
		`SELECT 1`: `SELECT 1`,
	} {
		if got := rebindPostgres(in); got != want {
			t.Errorf("rebindPostgres(%q)\n got %q\nwant %q", in, got, want)
		}
	}
	lite := &sqlDB{dialect: dialectSQLite}
	if q := `SELECT a FROM t WHERE id LIKE ?`; lite.rebind(q) != q {
		t.Errorf("SQLite query rewritten: %q", lite.rebind(q))
	}
}

func TestArgsPostgres(t *testing.T) {
	pg := &sqlDB{dialect: dialectPostgres}
	in := []any{true, false, "ok", "bad\xffbyte", "nul\x00", 3, nil, []byte("\xff")}
	want := []any{int64(1), int64(0), "ok", "bad\uFFFDbyte", "nul\uFFFD", 3, nil, []byte("\xff")}
	if got := pg.args(in); !reflect.DeepEqual(got, want) {
		t.Errorf("args = %#v, want %#v", got, want)
	}
	if in[0] != true {
		t.Error("args changed its input")
	}
	lite := &sqlDB{dialect: dialectSQLite}
	if got := lite.args(in); !reflect.DeepEqual(got, in) {
		t.Errorf("SQLite args rewritten: %#v", got)
	}
}
