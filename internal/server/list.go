package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/store"
)

// KFP filter operations, by enum number and name.
var filterOps = map[string]store.Op{
	"1": store.OpEq, "EQUALS": store.OpEq,
	"2": store.OpNe, "NOT_EQUALS": store.OpNe,
	"3": store.OpGt, "GREATER_THAN": store.OpGt,
	"5": store.OpGe, "GREATER_THAN_EQUALS": store.OpGe,
	"6": store.OpLt, "LESS_THAN": store.OpLt,
	"7": store.OpLe, "LESS_THAN_EQUALS": store.OpLe,
	"8": store.OpIn, "IN": store.OpIn,
	"9": store.OpContains, "IS_SUBSTRING": store.OpContains,
}

// listOptions reads page_token, page_size, sort_by and filter. valueMap
// rewrites filter values of a field (e.g. run states to stored phases).
func listOptions(r *http.Request, valueMap map[string]func(string) (any, error)) (store.ListOptions, error) {
	q := r.URL.Query()
	opts := store.ListOptions{PageSize: 100}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return opts, badRequest("page_size %q: want a non-negative integer", v)
		}
		if n > 0 {
			opts.PageSize = min(n, 1000)
		}
	}
	if tok := q.Get("page_token"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return opts, badRequest("page_token %q is not a token this server issued", tok)
		}
		opts.Offset = n
	}
	if sb := strings.TrimSpace(q.Get("sort_by")); sb != "" {
		field, dir, _ := strings.Cut(sb, " ")
		opts.SortBy = field
		switch strings.ToLower(strings.TrimSpace(dir)) {
		case "", "asc":
		case "desc":
			opts.Desc = true
		default:
			return opts, badRequest("sort_by %q: want \"field\", \"field asc\" or \"field desc\"", sb)
		}
	}
	if f := q.Get("filter"); f != "" {
		preds, err := parseFilter(f, valueMap)
		if err != nil {
			return opts, err
		}
		opts.Predicates = preds
	}
	return opts, nil
}

func nextToken(p store.Page) string {
	if p.Next == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(p.Next)))
}

// parseFilter reads a KFP filter: {"predicates": [{"operation": ..., "key":
// ..., "<type>_value" or "<type>Value": ...}]}.
func parseFilter(s string, valueMap map[string]func(string) (any, error)) ([]store.Predicate, error) {
	var f struct {
		Predicates []map[string]json.RawMessage `json:"predicates"`
	}
	if err := json.Unmarshal([]byte(s), &f); err != nil {
		return nil, badRequest("filter: not a JSON filter: %v", err)
	}
	var out []store.Predicate
	for i, p := range f.Predicates {
		var key string
		_ = json.Unmarshal(p["key"], &key)
		if key == "" {
			return nil, badRequest("filter.predicates[%d]: missing key", i)
		}
		var opRaw any
		_ = json.Unmarshal(p["operation"], &opRaw)
		op, ok := filterOps[strings.ToUpper(fmt.Sprint(opRaw))]
		if !ok {
			return nil, badRequest("filter.predicates[%d]: unknown operation %v", i, opRaw)
		}
		pred := store.Predicate{Field: key, Op: op}
		for name, raw := range p {
			if name == "key" || name == "operation" {
				continue
			}
			vals, err := filterValues(name, raw)
			if err != nil {
				return nil, badRequest("filter.predicates[%d].%s: %v", i, name, err)
			}
			pred.Values = append(pred.Values, vals...)
		}
		if len(pred.Values) == 0 && op != store.OpIn {
			return nil, badRequest("filter.predicates[%d]: no value", i)
		}
		if m := valueMap[key]; m != nil {
			for j, v := range pred.Values {
				mv, err := m(fmt.Sprint(v))
				if err != nil {
					return nil, badRequest("filter.predicates[%d]: %v", i, err)
				}
				pred.Values[j] = mv
			}
		}
		out = append(out, pred)
	}
	return out, nil
}

func filterValues(name string, raw json.RawMessage) ([]any, error) {
	n := strings.ToLower(strings.ReplaceAll(name, "_", ""))
	switch n {
	case "stringvalue":
		var s string
		err := json.Unmarshal(raw, &s)
		return []any{s}, err
	case "intvalue", "longvalue":
		var v json.Number
		if err := json.Unmarshal(raw, &v); err != nil {
			var s string
			if err2 := json.Unmarshal(raw, &s); err2 != nil {
				return nil, err
			}
			v = json.Number(s)
		}
		i, err := v.Int64()
		return []any{i}, err
	case "timestampvalue":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		return []any{t}, err
	case "stringvalues", "intvalues", "longvalues":
		var w struct {
			Values []any `json:"values"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, err
		}
		return w.Values, nil
	}
	return nil, fmt.Errorf("unknown value field")
}

// stamp formats a time for the API (RFC 3339, UTC); zero times are omitted.
func stamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// serveList answers a KFP list request: the paging, sort and filter query
// parameters (plus the query parameters in eq, each an equality filter on
// the field of the same name when given), the store's listing, and the
// response {key: [...], total_size, next_page_token}.
func serveList[T, J any](w http.ResponseWriter, r *http.Request, key string, valueMap map[string]func(string) (any, error),
	eq []string, list func(context.Context, store.ListOptions) ([]T, store.Page, error), out func(T) J) {
	opts, err := listOptions(r, valueMap)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, field := range eq {
		if v := r.URL.Query().Get(field); v != "" {
			opts.Predicates = append(opts.Predicates, store.Predicate{Field: field, Op: store.OpEq, Values: []any{v}})
		}
	}
	items, page, err := list(r.Context(), opts)
	if err != nil {
		writeError(w, err)
		return
	}
	res := make([]J, len(items))
	for i, x := range items {
		res[i] = out(x)
	}
	writeJSON(w, http.StatusOK, map[string]any{key: res, "total_size": page.Total, "next_page_token": nextToken(page)})
}
