package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Op is a filter comparison.
type Op string

// Filter operations.
const (
	OpEq       Op = "="
	OpNe       Op = "!="
	OpGt       Op = ">"
	OpGe       Op = ">="
	OpLt       Op = "<"
	OpLe       Op = "<="
	OpIn       Op = "IN"
	OpContains Op = "CONTAINS"
)

// Predicate filters a list on one field. Values holds one value, or
// several for OpIn; a time.Time is compared as stored.
type Predicate struct {
	Field  string
	Op     Op
	Values []any
}

// ListOptions selects, orders and pages a list.
type ListOptions struct {
	Predicates []Predicate
	SortBy     string // a field name; empty for the default order
	Desc       bool
	PageSize   int // 0 means no limit
	Offset     int
}

// ErrInvalidFilter marks a filter a list cannot apply.
var ErrInvalidFilter = errors.New("invalid filter")

// Page describes where a listed page sits.
type Page struct {
	Total int
	// Next is the offset of the next page, or 0 when this is the last.
	Next int
}

// FieldError reports a filter or sort field a list does not support.
type FieldError struct {
	Field string
	Known []string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("cannot filter or sort on %q (known fields: %s)", e.Field, strings.Join(e.Known, ", "))
}

// table describes how one entity is listed: its filterable fields (API
// name -> column) and its default order.
type table struct {
	name        string
	fields      map[string]string
	defaultSort string
	// scope is a fixed condition (e.g. the versions of one pipeline).
	scope     string
	scopeArgs []any
}

// where builds the WHERE clause and arguments of a listing.
func (t table) where(opts ListOptions) (string, []any, error) {
	var conds []string
	var args []any
	if t.scope != "" {
		conds = append(conds, t.scope)
		args = append(args, t.scopeArgs...)
	}
	for _, p := range opts.Predicates {
		col, ok := t.fields[p.Field]
		if !ok {
			return "", nil, t.unknown(p.Field)
		}
		vals := make([]any, len(p.Values))
		for i, v := range p.Values {
			if tv, ok := v.(time.Time); ok {
				v = stamp(tv)
			}
			vals[i] = v
		}
		switch p.Op {
		case OpEq, OpNe, OpGt, OpGe, OpLt, OpLe:
			if len(vals) != 1 {
				return "", nil, fmt.Errorf("filter on %s: %s takes one value: %w", p.Field, p.Op, ErrInvalidFilter)
			}
			conds = append(conds, col+" "+string(p.Op)+" ?")
			args = append(args, vals[0])
		case OpIn:
			if len(vals) == 0 {
				conds = append(conds, "1 = 0")
				continue
			}
			conds = append(conds, col+" IN (?"+strings.Repeat(",?", len(vals)-1)+")")
			args = append(args, vals...)
		case OpContains:
			if len(vals) != 1 {
				return "", nil, fmt.Errorf("filter on %s: substring match takes one value: %w", p.Field, ErrInvalidFilter)
			}
			conds = append(conds, col+` LIKE ? ESCAPE '\'`)
			args = append(args, "%"+escapeLike(fmt.Sprint(vals[0]))+"%")
		default:
			return "", nil, fmt.Errorf("filter on %s: unsupported operation %q: %w", p.Field, p.Op, ErrInvalidFilter)
		}
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func (t table) unknown(field string) error {
	known := make([]string, 0, len(t.fields))
	for k := range t.fields {
		known = append(known, k)
	}
	sortStrings(known)
	return &FieldError{Field: field, Known: known}
}

// order builds the ORDER BY / LIMIT / OFFSET tail of a listing. The id
// breaks ties so that pages never overlap.
func (t table) order(opts ListOptions) (string, error) {
	col := t.defaultSort
	if opts.SortBy != "" {
		c, ok := t.fields[opts.SortBy]
		if !ok {
			return "", t.unknown(opts.SortBy)
		}
		col = c
	}
	dir := " ASC"
	if opts.Desc || (opts.SortBy == "" && strings.HasSuffix(t.defaultSort, "created_at")) {
		dir = " DESC"
	}
	q := " ORDER BY " + col + dir + ", id" + dir
	if opts.PageSize > 0 {
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", opts.PageSize, opts.Offset)
	}
	return q, nil
}

// list runs a listing: the rows of one page and the total count.
func (s *Store) list(ctx context.Context, t table, cols string, opts ListOptions, scan func(scanner) error) (Page, error) {
	where, args, err := t.where(opts)
	if err != nil {
		return Page{}, err
	}
	order, err := t.order(opts)
	if err != nil {
		return Page{}, err
	}
	var page Page
	// A substring filter on run names is narrowed down with the trigram
	// index where it can be (SQLite): the filters, LIKE included, then
	// apply to the runs the index names only.
	cands, narrowed, err := s.nameCandidates(ctx, t, opts)
	if err != nil {
		return Page{}, fmt.Errorf("list %s: %w", t.name, err)
	}
	if narrowed {
		if len(cands) == 0 {
			return page, nil
		}
		where += " AND id IN (?" + strings.Repeat(",?", len(cands)-1) + ")"
		for _, id := range cands {
			args = append(args, id)
		}
	}
	if hasContains(opts) && opts.PageSize > 0 {
		// A substring filter looks at every row (or every candidate):
		// find the matching ids, in order, with one scan, then fetch the
		// page by id (instead of scanning once to count and again for
		// the page).
		unpaged := opts
		unpaged.PageSize = 0
		byOrder, err := t.order(unpaged)
		if err != nil {
			return Page{}, err
		}
		ids, err := s.ids(ctx, `SELECT id FROM `+t.name+where+byOrder, args)
		if err != nil {
			return Page{}, fmt.Errorf("list %s: %w", t.name, err)
		}
		page.Total = len(ids)
		lo, hi := min(opts.Offset, len(ids)), min(opts.Offset+opts.PageSize, len(ids))
		ids = ids[lo:hi]
		if len(ids) == 0 {
			return page, nil
		}
		where = " WHERE id IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
		args = args[:0]
		for _, id := range ids {
			args = append(args, id)
		}
		order = byOrder
		opts.Offset = lo
	} else if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name+where, args...).Scan(&page.Total); err != nil {
		return Page{}, fmt.Errorf("count %s: %w", t.name, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM `+t.name+where+order, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list %s: %w", t.name, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := scan(rows); err != nil {
			return Page{}, fmt.Errorf("list %s: %w", t.name, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list %s: %w", t.name, err)
	}
	if opts.PageSize > 0 && opts.Offset+n < page.Total {
		page.Next = opts.Offset + n
	}
	return page, nil
}

func hasContains(opts ListOptions) bool {
	for _, p := range opts.Predicates {
		if p.Op == OpContains {
			return true
		}
	}
	return false
}

// ids runs a query of one id column.
func (s *Store) ids(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
