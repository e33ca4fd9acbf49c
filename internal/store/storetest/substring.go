package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

// substring covers substring filters (KFP's IS_SUBSTRING): the substring
// is literal (LIKE wildcards, quotes and backslashes included), case is
// ignored for ASCII letters only, and the rows listed are the same
// whatever the length of the substring, through deletes, archiving,
// paging, sorting and other filters. The SQLite store looks substrings of
// three characters or more up in a trigram index that folds case over all
// of Unicode: only what LIKE selects may come out of it.
func substring(t *testing.T, s *store.Store) {
	ctx := context.Background()
	names := []struct{ id, name string }{
		{"ss-01", "Train-ALPHA-01"},
		{"ss-02", "train-alpha-02"},
		{"ss-03", "100% done"},
		{"ss-04", "1000 done"},
		{"ss-05", "snake_case_name"},
		{"ss-06", "snakeXcaseXname"},
		{"ss-07", `it's "quoted"`},
		{"ss-08", `back\slash`},
		{"ss-09", "Ünïcödé Straße"},
		{"ss-10", "ünïcödé strasse"},
		{"ss-11", "日本語のラン"},
		{"ss-12", "ab"},
		{"ss-13", "a%b"},
		{"ss-14", "xabcx"},
	}
	var runs []*run.Run
	for i, n := range names {
		r := newRun(n.id)
		r.DisplayName, r.Phase = n.name, run.Succeeded
		r.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		runs = append(runs, r)
	}
	must(t, s.Apply(ctx, &run.Changes{NewRuns: runs}))

	contains := func(field, v string) store.Predicate {
		return store.Predicate{Field: field, Op: store.OpContains, Values: []any{v}}
	}
	check := func(what string, opts store.ListOptions, want string) {
		t.Helper()
		got, page, err := s.ListRunsPage(ctx, opts)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if ids(got) != want || (opts.PageSize == 0 && page.Total != len(got)) {
			t.Errorf("%s = %q (total %d), want %q", what, ids(got), page.Total, want)
		}
	}
	for _, c := range []struct {
		sub  string
		want string // newest first
	}{
		{"alpha", "ss-02 ss-01"},
		{"ALPHA-0", "ss-02 ss-01"},
		{"a-01", "ss-01"},
		{"%", "ss-13 ss-03"},
		{"0%", "ss-03"},
		{"0% d", "ss-03"},
		{"a%b", "ss-13"},
		{"_", "ss-05"},
		{"e_c", "ss-05"},
		{"_case_", "ss-05"},
		{`"`, "ss-07"},
		{`"quoted"`, "ss-07"},
		{`it's`, "ss-07"},
		{`'s "q`, "ss-07"},
		{`\`, "ss-08"},
		{`k\s`, "ss-08"},
		{`back\slash`, "ss-08"},
		// LIKE folds ASCII letters only (so does Postgres's ILIKE on
		// the "C" collation): Ü and ü differ, S and s do not.
		{"ünï", "ss-10"},
		{"Ünï", "ss-09"},
		{"ÜNÏ", ""},
		{"straße", "ss-09"},
		{"STRASSE", "ss-10"},
		{"é S", "ss-10 ss-09"},
		{"ß", "ss-09"},
		{"日本語", "ss-11"},
		{"本語", "ss-11"},
		{"のラン", "ss-11"},
		{"ab", "ss-14 ss-12"},
		{"abc", "ss-14"},
		{"b", "ss-14 ss-13 ss-12 ss-08"},
		{"zzz", ""},
		{"done", "ss-04 ss-03"},
		{"", "ss-14 ss-13 ss-12 ss-11 ss-10 ss-09 ss-08 ss-07 ss-06 ss-05 ss-04 ss-03 ss-02 ss-01"},
	} {
		check(fmt.Sprintf("display_name contains %q", c.sub), store.ListOptions{Predicates: []store.Predicate{contains("display_name", c.sub)}}, c.want)
		check(fmt.Sprintf("name contains %q, paged", c.sub), store.ListOptions{Predicates: []store.Predicate{contains("name", c.sub)}, PageSize: 100}, c.want)
	}

	// Two substrings, and a substring with other filters.
	check("two substrings", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "alpha"), contains("name", "-02")}}, "ss-02")
	check("a short and a long substring", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "a"), contains("name", "SNAKE")}}, "ss-06 ss-05")
	check("substring and id", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "alpha"),
		{Field: "run_id", Op: store.OpIn, Values: []any{"ss-01", "ss-05"}}}}, "ss-01")
	check("substring of another column", store.ListOptions{Predicates: []store.Predicate{contains("pipeline_name", "P")}},
		"ss-14 ss-13 ss-12 ss-11 ss-10 ss-09 ss-08 ss-07 ss-06 ss-05 ss-04 ss-03 ss-02 ss-01")
	check("sorted by name", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "ALPHA")}, SortBy: "display_name"}, "ss-01 ss-02")

	// Pages follow Next until it is 0; the total counts every match.
	// "100% done" < "1000 done" < "Train-ALPHA-01" < "snakeXcaseXname" <
	// "snake_case_name" < "train-alpha-02" < "Ünïcödé Straße" < "ünïcödé strasse"
	walk(t, s, store.ListOptions{Predicates: []store.Predicate{contains("display_name", "n")}, PageSize: 3, SortBy: "display_name"},
		"ss-03 ss-04 ss-01 | ss-06 ss-05 ss-02 | ss-09 ss-10")
	walk(t, s, store.ListOptions{Predicates: []store.Predicate{contains("display_name", "AS")}, PageSize: 2, SortBy: "display_name", Desc: true},
		"ss-10 ss-05 | ss-06 ss-08")

	// Archived runs stay listed, and filter by storage state.
	must(t, s.SetRunStorage(ctx, "ss-02", run.StorageArchived))
	check("archived", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "alpha"),
		{Field: "storage_state", Op: store.OpEq, Values: []any{run.StorageArchived}}}}, "ss-02")
	check("available", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "alpha"),
		{Field: "storage_state", Op: store.OpNe, Values: []any{run.StorageArchived}}}}, "ss-01")

	// A deleted run is no longer listed; a new run with its name is,
	// once; runs inserted later are found.
	must(t, s.DeleteRun(ctx, "ss-01"))
	check("after delete", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "alpha")}}, "ss-02")
	again := newRun("ss-15")
	again.DisplayName, again.CreatedAt = "Train-ALPHA-01", t0.Add(time.Minute)
	must(t, s.Apply(ctx, &run.Changes{NewRuns: []*run.Run{again}}))
	check("after re-create", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "alpha")}}, "ss-15 ss-02")
	check("after re-create, short", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "01")}}, "ss-15")

	// A run a schedule fires is found too.
	rr := &run.RecurringRun{ID: "ss-rr", DisplayName: "nightly", Spec: []byte("spec"), Interval: time.Hour, Enabled: true, MaxConcurrency: 1, CreatedAt: t0, UpdatedAt: t0}
	must(t, s.CreateRecurringRun(ctx, rr))
	fired := newRun("ss-16")
	fired.DisplayName, fired.RecurringRunID, fired.CreatedAt = "nightly 2026-11-27", rr.ID, t0.Add(2*time.Minute)
	ok, err := s.FireRecurring(ctx, rr.ID, t0.Add(time.Hour), fired)
	must(t, err)
	if !ok {
		t.Fatal("FireRecurring did not fire")
	}
	check("fired run", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "NIGHTLY 2026")}}, "ss-16")

	// Many runs share a substring: more candidates than the index hands
	// out, and the total and the pages are still exact.
	const many = 2100
	var bulk []*run.Run
	for i := 0; i < many; i++ {
		r := newRun(fmt.Sprintf("ss-bulk-%04d", i))
		r.DisplayName, r.CreatedAt = fmt.Sprintf("bulk %04d", i), t0.Add(time.Hour+time.Duration(i)*time.Millisecond)
		if i%700 == 0 {
			r.DisplayName = fmt.Sprintf("BULK %04d special", i)
		}
		bulk = append(bulk, r)
	}
	must(t, s.Apply(ctx, &run.Changes{NewRuns: bulk}))
	got, page, err := s.ListRunsPage(ctx, store.ListOptions{Predicates: []store.Predicate{contains("display_name", "bulk ")}, PageSize: 3})
	must(t, err)
	if page.Total != many || ids(got) != "ss-bulk-2099 ss-bulk-2098 ss-bulk-2097" || page.Next != 3 {
		t.Errorf("contains \"bulk \" = %q (total %d, next %d), want %d in all", ids(got), page.Total, page.Next, many)
	}
	var want []string
	for i := 99; i >= 0; i-- {
		want = append(want, fmt.Sprintf("ss-bulk-%04d", i))
	}
	walk(t, s, store.ListOptions{Predicates: []store.Predicate{contains("display_name", "ulk 00")}, PageSize: 40},
		strings.Join(want[:40], " ")+" | "+strings.Join(want[40:80], " ")+" | "+strings.Join(want[80:], " "))
	check("bulk, rare", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "K 0700 SPEC")}}, "ss-bulk-0700")
	check("bulk, rare and common", store.ListOptions{Predicates: []store.Predicate{contains("display_name", "bulk"), contains("display_name", "special")}},
		"ss-bulk-2100 ss-bulk-1400 ss-bulk-0700 ss-bulk-0000"[len("ss-bulk-2100 "):])
}

// walk lists every page of a listing, following Next, and compares the
// pages with want (ids separated by " | "); every page reports the total.
func walk(t *testing.T, s *store.Store, opts store.ListOptions, want string) {
	t.Helper()
	ctx := context.Background()
	var pages []string
	total := len(strings.Fields(want)) - strings.Count(want, "|")
	for i := 0; i < 100; i++ {
		got, page, err := s.ListRunsPage(ctx, opts)
		must(t, err)
		if page.Total != total {
			t.Fatalf("%+v: page at %d: total %d, want %d", opts.Predicates, opts.Offset, page.Total, total)
		}
		pages = append(pages, ids(got))
		if page.Next == 0 {
			break
		}
		if page.Next != opts.Offset+len(got) {
			t.Fatalf("%+v: page at %d: next = %d", opts.Predicates, opts.Offset, page.Next)
		}
		opts.Offset = page.Next
	}
	if got := strings.Join(pages, " | "); got != want {
		t.Errorf("%+v: pages = %q, want %q", opts.Predicates, got, want)
	}
	opts.Offset = total + 5
	if got, page, err := s.ListRunsPage(ctx, opts); err != nil || len(got) != 0 || page.Total != total || page.Next != 0 {
		t.Errorf("%+v: page past the end = %q (total %d, next %d), %v", opts.Predicates, ids(got), page.Total, page.Next, err)
	}
}
