package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
	"github.com/weir-dev/weir/internal/store"
)

const (
	// listRuns runs are written into the database, listChunk per
	// transaction.
	listRuns  = 100_000
	listChunk = 1_000
	// listRunning of them (the newest) are left running: the server
	// resumes them when it starts, and the bench waits for them to end
	// before it measures.
	listRunning = 16
	// listExperiments experiments share the runs; listNames distinct
	// display names are reused across the runs.
	listExperiments = 5
	listNames       = 1_000
	// listRequests requests are timed per query shape.
	listRequests = 200
	// listDeepPage is the page the deep-page shape reads, reached by
	// following next_page_token from the first page.
	listDeepPage = 10
	// listStoreSamples in-process store calls are timed per shape once
	// the server has stopped, listSQLSamples executions of each SQL.
	listStoreSamples = 30
	listSQLSamples   = 10
	// listShapeBudget bounds the time spent on one shape's requests:
	// once its requests add up to this, the shape gets no more (its
	// count is reported). listStoreBudget does the same for each timing
	// in process.
	listShapeBudget = 10 * time.Second
	listStoreBudget = 3 * time.Second
	// listTarget is the p99 latency the project aims at for every shape
	// (reported, never asserted).
	listTarget = 50 * time.Millisecond
	// listSettleTimeout bounds the wait for the resumed runs to end.
	listSettleTimeout = 2 * time.Minute
)

// listShape is one GET /apis/v2beta1/runs query, with the store options
// the server turns it into.
type listShape struct {
	name string
	path string
	opts store.ListOptions
	// Filled by the measurement.
	lat                  []time.Duration
	spent                time.Duration // sum of lat
	total                int
	storeLat             []time.Duration
	countSQL, pageSQL    string
	countTime, pageTime  time.Duration
	countPlan, pagePlan  []string
	countRows, pageCount int
	// From the first response: its size and how many of its runs carry
	// their spec inline.
	bytes, inline int
}

// serverList100k writes listRuns runs into a fresh WEIR_HOME through the
// store, starts `weir server` on it and times GET /apis/v2beta1/runs in
// several query shapes, interleaved with GET /apis/v2beta1/healthz (the
// HTTP floor, the baseline).
func (b *bench) serverList100k(ctx context.Context) (*result, error) {
	r := &result{Name: "server-list-100k", Steps: 1, TargetWall: listTarget,
		Baseline: "GET /healthz p99; weir = p99 of the slowest list shape"}
	file := filepath.Join(b.dir, r.Name+".yaml")
	if _, err := b.compile(ctx, filepath.Join(b.repo, "test", "bench", "pipelines.py"), "parallelfor", "2", file, "2"); err != nil {
		return r, fmt.Errorf("compiling the pipeline: %w", err)
	}
	doc, err := os.ReadFile(file)
	if err != nil {
		return r, err
	}
	home, err := b.newHome(r.Name)
	if err != nil {
		return r, err
	}
	dbPath := filepath.Join(home, "weir.db")
	t0 := time.Now()
	pop, err := populate(ctx, dbPath, home, doc)
	if err != nil {
		return r, fmt.Errorf("populating %s: %w", dbPath, err)
	}
	fill := time.Since(t0)
	size := fileSize(dbPath) + fileSize(dbPath+"-wal")
	fmt.Printf("   wrote %d runs (%d experiments, %d display names, half with an inline JSON spec, half from a pipeline version; %d left running) through the store in %s, %s on disk\n",
		listRuns, listExperiments, listNames, listRunning, ms(fill), mib(size))
	r.Info = append(r.Info, fmt.Sprintf("database: %d runs written through store.Apply in chunks of %d in %s (%.0f runs/s), %s on disk (%s per run, the spec stored in every run)",
		listRuns, listChunk, ms(fill), listRuns/fill.Seconds(), mib(size), fmt.Sprintf("%.1f KiB", float64(size)/listRuns/1024)))

	t0 = time.Now()
	srv, err := b.startServer(ctx, home)
	if err != nil {
		return r, err
	}
	fmt.Printf("   weir server answered healthz %s after it was started on the populated database\n", ms(time.Since(t0)))
	m, err := measureLists(ctx, srv, pop)
	if serr := srv.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return r, err
	}
	shapes, health := m.shapes, m.health
	r.Info = append(r.Info, fmt.Sprintf("the server resumed the %d running runs at start; they ended %s after it answered healthz, before the measurement", listRunning, ms(m.settle)))
	r.Info = append(r.Info, fmt.Sprintf("CPU during the %s of requests: weir server %s, the bench %s, other processes on the machine %s (%d CPUs; others' load shows in the p99s)",
		ms(m.window), ms(m.serverCPU), ms(m.selfCPU), ms(m.othersCPU), runtime.NumCPU()))

	fmt.Printf("   %-45s %s\n", "GET /apis/v2beta1/healthz (baseline)", latencies(health))
	for _, s := range shapes {
		fmt.Printf("   %-45s %s\n", s.name, latencies(s.lat))
	}

	// The store's share, in process, on the same database.
	if err := storeTimes(ctx, dbPath, shapes); err != nil {
		return r, fmt.Errorf("timing the store: %w", err)
	}

	// What the server does per run listed with an inline spec: runOut
	// converts the stored spec to JSON (spec.DocumentJSON).
	var convs []time.Duration
	for i := 0; i < 200; i++ {
		t := time.Now()
		if _, err := spec.DocumentJSON(pop.inline); err != nil {
			return r, err
		}
		convs = append(convs, time.Since(t))
	}
	conv := median(convs)
	r.Info = append(r.Info, fmt.Sprintf("the server converts the stored spec of every listed run submitted with its spec inline back to JSON (spec.DocumentJSON, a YAML decode then a JSON encode of a %.1f KiB spec): %s per run in process (median), %s for a page of 100 such runs",
		float64(len(pop.inline))/1024, ms(conv), ms(100*conv)))

	worst := shapes[0]
	for _, s := range shapes {
		if percentile(s.lat, 99) > percentile(worst.lat, 99) {
			worst = s
		}
	}
	r.Weir = []time.Duration{percentile(worst.lat, 99)}
	r.Base = []time.Duration{percentile(health, 99)}
	r.Info = append(r.Info, fmt.Sprintf("baseline GET /apis/v2beta1/healthz %s; the summary row's weir is the p99 of the slowest shape (%s)", latencies(health), worst.name))
	for _, s := range shapes {
		p99 := percentile(s.lat, 99)
		verdict := "met"
		if p99 > listTarget {
			verdict = "NOT met"
		}
		capped := ""
		if len(s.lat) < listRequests {
			capped = fmt.Sprintf(", stopped after %s of requests", ms(s.spent))
		}
		r.Info = append(r.Info, fmt.Sprintf("target p99 <= %s, %s: %s (HTTP p50 %s, p99 %s, n=%d%s; %d of %d runs match; a page of %.0f KiB, %d runs with their spec inline; in process: store.ListRunsPage p50 %s, its COUNT(*) %s and page SELECT %s)",
			ms(listTarget), s.name, verdict, ms(percentile(s.lat, 50)), ms(p99), len(s.lat), capped, s.total, listRuns,
			float64(s.bytes)/1024, s.inline, ms(percentile(s.storeLat, 50)), ms(s.countTime), ms(s.pageTime)))
	}
	for _, s := range shapes {
		if percentile(s.lat, 99) <= listTarget {
			continue
		}
		storeP50, httpP50 := percentile(s.storeLat, 50), percentile(s.lat, 50)
		if storeP50 < listTarget/4 && storeP50 < httpP50/2 {
			// The database is not what makes it slow.
			r.Info = append(r.Info, fmt.Sprintf("slow %s: not the SQL: store.ListRunsPage p50 %s of the HTTP p50 %s; the rest is the handler and the round trip: converting the %d inline specs of the page (about %s at %s each in process), encoding the %.0f KiB response, reading it (healthz p50 %s)",
				s.name, ms(storeP50), ms(httpP50), s.inline, ms(time.Duration(s.inline)*conv), ms(conv), float64(s.bytes)/1024, ms(percentile(health, 50))))
			continue
		}
		r.Info = append(r.Info,
			fmt.Sprintf("slow %s: the SQL: store.ListRunsPage p50 %s of the HTTP p50 %s", s.name, ms(storeP50), ms(httpP50)),
			fmt.Sprintf("slow %s: %s  [%s]  -> %s", s.name, s.countSQL, ms(s.countTime), strings.Join(s.countPlan, "; ")),
			fmt.Sprintf("slow %s: %s  [%s]  -> %s", s.name, s.pageSQL, ms(s.pageTime), strings.Join(s.pagePlan, "; ")))
	}
	return r, nil
}

// populated is what populate wrote, for the queries.
type populated struct {
	experiments []string
	name        string // a display name listRuns/listNames runs have
	succeeded   int    // runs written succeeded
	inline      []byte // the spec of the runs submitted inline, as stored
}

// populate writes the runs through the store: one pipeline with one
// version, listExperiments experiments, then listRuns runs in chunks of
// listChunk per transaction.
func populate(ctx context.Context, dbPath, home string, doc []byte) (*populated, error) {
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	inline, err := spec.DocumentJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("the compiled pipeline: %w", err)
	}
	end := time.Now().UTC().Add(-time.Hour)
	begin := end.Add(-90 * 24 * time.Hour)
	step := end.Sub(begin) / listRuns
	pl := &run.Pipeline{ID: uuid.NewString(), Name: "bench-list", DisplayName: "bench-list", CreatedAt: begin.Add(-time.Hour)}
	ver := &run.PipelineVersion{ID: uuid.NewString(), PipelineID: pl.ID, Name: "bench-list", DisplayName: "bench-list", Spec: doc, CreatedAt: pl.CreatedAt}
	if err := st.CreatePipeline(ctx, pl, ver); err != nil {
		return nil, err
	}
	pop := &populated{name: listName(42), inline: inline}
	for i := 0; i < listExperiments; i++ {
		e := &run.Experiment{ID: uuid.NewString(), DisplayName: fmt.Sprintf("experiment-%d", i), CreatedAt: begin.Add(-time.Hour)}
		if err := st.CreateExperiment(ctx, e); err != nil {
			return nil, err
		}
		pop.experiments = append(pop.experiments, e.ID)
	}
	root := filepath.Join(home, "artifacts")
	for lo := 0; lo < listRuns; lo += listChunk {
		c := &run.Changes{}
		for i := lo; i < min(lo+listChunk, listRuns); i++ {
			created := begin.Add(time.Duration(i) * step).Add(time.Duration(i*7919%1000) * time.Millisecond)
			x := &run.Run{
				ID: uuidV7At(created), PipelineName: "bench-parallelfor", DisplayName: listName(i),
				Parameters:   map[string]any{"items": []any{fmt.Sprintf("a-%d", i), fmt.Sprintf("b-%d", i)}},
				PipelineRoot: root, CreatedAt: created,
				ExperimentID: pop.experiments[i%listExperiments], StorageState: run.StorageAvailable,
			}
			if i%2 == 0 {
				// As kfp.Client's create_run_from_pipeline_package sends
				// it: the spec inline, as JSON.
				x.Spec, x.SpecFile = inline, "pipeline_spec"
			} else {
				x.Spec, x.SpecFile, x.PipelineID, x.PipelineVersionID = doc, ver.Name, pl.ID, ver.ID
			}
			switch {
			case i >= listRuns-listRunning:
				x.Phase, x.StartedAt = run.Running, created.Add(time.Second)
			case i%20 < 15:
				pop.succeeded++
				x.Phase, x.StartedAt, x.FinishedAt = run.Succeeded, created.Add(time.Second), created.Add(time.Duration(30+i%300)*time.Second)
			case i%20 < 19:
				x.Phase, x.StartedAt, x.FinishedAt = run.Failed, created.Add(time.Second), created.Add(time.Duration(10+i%60)*time.Second)
				x.Error = "task item-step failed: exit code 1"
			default:
				x.Phase, x.StartedAt, x.FinishedAt = run.Canceled, created.Add(time.Second), created.Add(time.Duration(5+i%60)*time.Second)
				x.Error = "canceled"
			}
			c.NewRuns = append(c.NewRuns, x)
		}
		if err := st.Apply(ctx, c); err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return pop, nil
}

// listName is run i's display name: listNames names, each shared by as
// many runs with an inline spec (even i) as from a pipeline version.
func listName(i int) string { return fmt.Sprintf("train-%04d", (i/2)%listNames) }

// uuidV7At returns a version 7 UUID for time t, as the server makes for a
// run created then.
func uuidV7At(t time.Time) string {
	u := uuid.New()
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(t.UnixMilli()))
	copy(u[0:6], ms[2:8])
	u[6] = u[6]&0x0f | 0x70
	return u.String()
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// measureLists waits for the resumed runs to end, then times every shape
// and the healthz baseline listRequests times, round-robin.
// listMeasure is what measureLists measured.
type listMeasure struct {
	shapes []*listShape
	health []time.Duration
	// settle is how long the resumed runs took to end.
	settle time.Duration
	// window is the time the requests took; the CPU times are the
	// server's, the bench's and the rest of the machine's meanwhile.
	window, serverCPU, selfCPU, othersCPU time.Duration
}

func measureLists(ctx context.Context, srv *weirServer, pop *populated) (*listMeasure, error) {
	m := &listMeasure{}
	t0 := time.Now()
	notEnded := apiPrefix + "/runs?page_size=1&filter=" + stateFilter("RUNNING", "PENDING")
	for {
		var l runList
		if _, err := srv.call(ctx, http.MethodGet, notEnded, "", nil, &l); err != nil {
			return nil, err
		}
		if l.TotalSize == 0 {
			break
		}
		if time.Since(t0) > listSettleTimeout {
			return nil, &runFailure{fmt.Sprintf("%d resumed run(s) still not ended after %v", l.TotalSize, listSettleTimeout)}
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	m.settle = time.Since(t0)
	var ok runList
	if _, err := srv.call(ctx, http.MethodGet, apiPrefix+"/runs?page_size=1&filter="+stateFilter("SUCCEEDED"), "", nil, &ok); err != nil {
		return nil, err
	}
	if ok.TotalSize != pop.succeeded+listRunning {
		return nil, &runFailure{fmt.Sprintf("%d runs succeeded, want %d (the %d written succeeded and the %d resumed ones): a resumed run did not succeed",
			ok.TotalSize, pop.succeeded+listRunning, pop.succeeded, listRunning)}
	}

	// Follow next_page_token to the deep page.
	token := ""
	for p := 1; p < listDeepPage; p++ {
		var l runList
		path := apiPrefix + "/runs"
		if token != "" {
			path += "?page_token=" + url.QueryEscape(token)
		}
		if _, err := srv.call(ctx, http.MethodGet, path, "", nil, &l); err != nil {
			return nil, err
		}
		if l.NextToken == "" {
			return nil, &runFailure{fmt.Sprintf("page %d has no next_page_token", p)}
		}
		token = l.NextToken
	}
	offset := 0
	if raw, err := base64.RawURLEncoding.DecodeString(token); err == nil {
		offset, _ = strconv.Atoi(string(raw))
	}

	eq := func(key, op, v string) string {
		f, _ := json.Marshal(map[string]any{"predicates": []any{map[string]any{"key": key, "operation": op, "string_value": v}}})
		return url.QueryEscape(string(f))
	}
	desc := url.QueryEscape("created_at desc")
	sub := pop.name[2:] // "ain-0042": a substring of one display name
	pred := func(field string, op store.Op, v any) []store.Predicate {
		return []store.Predicate{{Field: field, Op: op, Values: []any{v}}}
	}
	shapes := []*listShape{
		{name: "default (page_size 100)", path: "/runs", opts: store.ListOptions{PageSize: 100}},
		{name: "page_size=50 sort_by=created_at desc", path: "/runs?page_size=50&sort_by=" + desc,
			opts: store.ListOptions{PageSize: 50, SortBy: "created_at", Desc: true}},
		{name: "display_name EQUALS", path: "/runs?sort_by=" + desc + "&filter=" + eq("display_name", "EQUALS", pop.name),
			opts: store.ListOptions{PageSize: 100, SortBy: "created_at", Desc: true, Predicates: pred("display_name", store.OpEq, pop.name)}},
		{name: "display_name IS_SUBSTRING", path: "/runs?sort_by=" + desc + "&filter=" + eq("display_name", "IS_SUBSTRING", sub),
			opts: store.ListOptions{PageSize: 100, SortBy: "created_at", Desc: true, Predicates: pred("display_name", store.OpContains, sub)}},
		{name: "experiment_id", path: "/runs?sort_by=" + desc + "&experiment_id=" + pop.experiments[1],
			opts: store.ListOptions{PageSize: 100, SortBy: "created_at", Desc: true, Predicates: pred("experiment_id", store.OpEq, pop.experiments[1])}},
		{name: "state EQUALS SUCCEEDED", path: "/runs?sort_by=" + desc + "&filter=" + eq("state", "EQUALS", "SUCCEEDED"),
			opts: store.ListOptions{PageSize: 100, SortBy: "created_at", Desc: true, Predicates: pred("state", store.OpEq, string(run.Succeeded))}},
		{name: fmt.Sprintf("deep page (page %d via next_page_token)", listDeepPage), path: "/runs?page_token=" + url.QueryEscape(token),
			opts: store.ListOptions{PageSize: 100, Offset: offset}},
	}
	for _, s := range shapes {
		s.path = apiPrefix + s.path
		var l runList
		code, data, _, err := srv.do(ctx, http.MethodGet, s.path, "", nil)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", s.path, err)
		}
		if code != http.StatusOK {
			return nil, &runFailure{fmt.Sprintf("GET %s: HTTP %d: %s", s.path, code, tail(string(data), 3))}
		}
		if err := json.Unmarshal(data, &l); err != nil {
			return nil, fmt.Errorf("GET %s: %w", s.path, err)
		}
		s.total, s.bytes = l.TotalSize, len(data)
		for _, x := range l.Runs {
			if len(x.PipelineSpec) > 0 {
				s.inline++
			}
		}
		want := min(s.opts.PageSize, max(l.TotalSize-s.opts.Offset, 0))
		if len(l.Runs) != want || l.TotalSize == 0 {
			return nil, &runFailure{fmt.Sprintf("%s: %s lists %d run(s) of %d, want %d", s.name, s.path, len(l.Runs), l.TotalSize, want)}
		}
	}

	var health []time.Duration
	healthPath := apiPrefix + "/healthz"
	cpu0, _, err := procCPU(srv.pid)
	if err != nil {
		return nil, err
	}
	self0, busy0, start := rusage(syscall.RUSAGE_SELF), machineBusy(), time.Now()
	n := len(shapes) + 1
	for round := 0; round < listRequests; round++ {
		for k := 0; k < n; k++ {
			// Rotate the order, so no shape always follows the same one.
			j := (round + k) % n
			path := healthPath
			if j < len(shapes) {
				if shapes[j].spent >= listShapeBudget {
					continue
				}
				path = shapes[j].path
			}
			code, data, took, err := srv.do(ctx, http.MethodGet, path, "", nil)
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", path, err)
			}
			if code != http.StatusOK {
				return nil, &runFailure{fmt.Sprintf("GET %s: HTTP %d: %s", path, code, tail(string(data), 3))}
			}
			if j < len(shapes) {
				shapes[j].lat = append(shapes[j].lat, took)
				shapes[j].spent += took
			} else {
				health = append(health, took)
			}
		}
	}
	m.window = time.Since(start)
	cpu1, _, err := procCPU(srv.pid)
	if err != nil {
		return nil, err
	}
	self1, busy1 := rusage(syscall.RUSAGE_SELF), machineBusy()
	m.serverCPU, m.selfCPU = cpu1-cpu0, self1-self0
	m.othersCPU = max(busy1-busy0-m.serverCPU-m.selfCPU, 0)
	m.shapes, m.health = shapes, health
	return m, nil
}

// storeTimes times store.ListRunsPage for every shape in this process,
// then the two statements it runs (the count and the page), and reads
// their query plans.
func storeTimes(ctx context.Context, dbPath string, shapes []*listShape) error {
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	for _, s := range shapes {
		var spent time.Duration
		for i := 0; i < listStoreSamples && (i < 3 || spent < listStoreBudget); i++ {
			t := time.Now()
			runs, page, err := st.ListRunsPage(ctx, s.opts)
			if err != nil {
				st.Close()
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.storeLat = append(s.storeLat, time.Since(t))
			spent += time.Since(t)
			if page.Total != s.total || len(runs) == 0 {
				st.Close()
				return fmt.Errorf("%s: the store lists %d of %d runs, the server said %d", s.name, len(runs), page.Total, s.total)
			}
		}
	}
	if err := st.Close(); err != nil {
		return err
	}

	// The statements of store.list (internal/store/list.go) for these
	// options, run on a read-only connection of the same driver.
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range shapes {
		where, args := listWhere(s.opts)
		s.countSQL = "SELECT COUNT(*) FROM runs" + where
		s.pageSQL = "SELECT <all run columns> FROM runs" + where + listOrder(s.opts)
		page := "SELECT " + runColumns + " FROM runs" + where + listOrder(s.opts)
		var counts, pages []time.Duration
		var spent time.Duration
		for i := 0; i < listSQLSamples && (i < 1 || spent < listStoreBudget); i++ {
			t := time.Now()
			if err := db.QueryRowContext(ctx, s.countSQL, args...).Scan(&s.countRows); err != nil {
				return fmt.Errorf("%s: %s: %w", s.name, s.countSQL, err)
			}
			counts = append(counts, time.Since(t))
			t = time.Now()
			rows, err := db.QueryContext(ctx, page, args...)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", s.name, page, err)
			}
			s.pageCount = 0
			for rows.Next() {
				s.pageCount++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("%s: %s: %w", s.name, page, err)
			}
			pages = append(pages, time.Since(t))
			spent += counts[i] + pages[i]
		}
		if s.countRows != s.total {
			return fmt.Errorf("%s: %s counts %d runs, the server said %d: the bench's copy of the store's SQL is out of date", s.name, s.countSQL, s.countRows, s.total)
		}
		s.countTime, s.pageTime = median(counts), median(pages)
		if s.countPlan, err = queryPlan(ctx, db, s.countSQL, args); err != nil {
			return err
		}
		if s.pagePlan, err = queryPlan(ctx, db, page, args); err != nil {
			return err
		}
	}
	return nil
}

// runColumns are the columns store.ListRunsPage reads (runCols in
// internal/store/query.go).
const runColumns = `id, pipeline_name, display_name, spec, spec_file, parameters, pipeline_root, options, phase, error, created_at, started_at, finished_at, experiment_id, pipeline_id, pipeline_version_id, description, storage_state, service_account, recurring_run_id, cancel_requested`

// listColumns maps the API fields the shapes use to columns (runsTable in
// internal/store/runs.go).
var listColumns = map[string]string{"display_name": "display_name", "experiment_id": "experiment_id", "state": "phase", "created_at": "created_at"}

// listWhere and listOrder build the WHERE clause and the ORDER BY / LIMIT
// / OFFSET tail the way store.list does, for the operations the shapes use.
func listWhere(opts store.ListOptions) (string, []any) {
	var conds []string
	var args []any
	for _, p := range opts.Predicates {
		col := listColumns[p.Field]
		switch p.Op {
		case store.OpContains:
			conds = append(conds, col+` LIKE ? ESCAPE '\'`)
			args = append(args, "%"+fmt.Sprint(p.Values[0])+"%")
		default:
			conds = append(conds, col+" "+string(p.Op)+" ?")
			args = append(args, p.Values[0])
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func listOrder(opts store.ListOptions) string {
	col := "created_at"
	if opts.SortBy != "" {
		col = listColumns[opts.SortBy]
	}
	// The default order is created_at descending.
	dir := " DESC"
	if opts.SortBy != "" && !opts.Desc {
		dir = " ASC"
	}
	return fmt.Sprintf(" ORDER BY %s%s, id%s LIMIT %d OFFSET %d", col, dir, dir, opts.PageSize, opts.Offset)
}

// queryPlan returns the EXPLAIN QUERY PLAN lines of a statement.
func queryPlan(ctx context.Context, db *sql.DB, query string, args []any) ([]string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, fmt.Errorf("EXPLAIN QUERY PLAN %s: %w", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}
