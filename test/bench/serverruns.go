package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// serverRuns runs of a serverRunSteps-step chain are submitted.
	serverRuns     = 500
	serverRunSteps = 5
	// serverClients goroutines submit the runs concurrently.
	serverClients = 16
	// serverRunsTimeout bounds the wait for all runs to succeed, from the
	// first submission.
	serverRunsTimeout = 3 * time.Minute
	// serverPollInterval is the pause between two polls of the run states.
	serverPollInterval = 50 * time.Millisecond
	// serverIdleWait is how long a server is left idle before its RSS is
	// read.
	serverIdleWait = 2 * time.Second
)

// rssAfterLoad is the idle RSS of the last server-500-runs server, in bytes
// (0 when it did not run): server-idle-rss reports it next to a fresh
// server's.
var rssAfterLoad int64

// apiRun is the part of a KFP run the bench reads.
type apiRun struct {
	RunID       string  `json:"run_id"`
	State       string  `json:"state"`
	CreatedAt   *string `json:"created_at"`
	FinishedAt  *string `json:"finished_at"`
	DisplayName string  `json:"display_name"`
	// PipelineSpec is set for a run submitted with its spec inline.
	PipelineSpec json.RawMessage `json:"pipeline_spec"`
	Error        *struct {
		Message string `json:"message"`
	} `json:"error"`
	RunDetails *struct {
		Tasks []struct {
			Name   string  `json:"display_name"`
			State  string  `json:"state"`
			Create *string `json:"create_time"`
			Start  *string `json:"start_time"`
			End    *string `json:"end_time"`
		} `json:"task_details"`
	} `json:"run_details"`
}

type runList struct {
	Runs      []apiRun `json:"runs"`
	TotalSize int      `json:"total_size"`
	NextToken string   `json:"next_page_token"`
}

// serverRunsRep is what one repetition of server-500-runs measured.
type serverRunsRep struct {
	// wall runs from before the first create request to the last run's
	// finished_at; span from the first run's created_at to the last
	// run's finished_at (both recorded by the server); submitted from
	// before the first create request to the last create response;
	// detected from before the first create request to the poll that
	// saw every run succeeded.
	wall, span, submitted, detected time.Duration
	creates, polls, gets            []time.Duration
	// Per-run breakdown, summed over the runs, from the task details:
	// queue is a run's created_at to its tasks' create_time (waiting for
	// a driving slot, loading and planning the run); steps is the tasks'
	// start_time to end_time (spawning and waiting for the process);
	// between is from a task's end to the next task's start; tail is the
	// last task's end to the run's finished_at.
	queue, steps, between, tail time.Duration
	// Step durations of the runs whose first step started while create
	// requests were still being answered, and of the others.
	stepsBusy, stepsAfter time.Duration
	nBusy, nAfter         int
	// CPU time used during the measured window by the server itself, by
	// the step processes it waited for, and by the bench (the clients).
	serverCPU, stepsCPU, clientCPU time.Duration
	// othersCPU is what the rest of the machine used meanwhile.
	othersCPU time.Duration
	rssIdle   int64
}

// server500Runs submits serverRuns runs of a kfp-compiled chain of
// serverRunSteps trivial container steps to a fresh `weir server` and
// waits for all of them to succeed; the baseline spawns the same step
// command lines directly, as many at once as the server runs at most.
func (b *bench) server500Runs(ctx context.Context) (*result, error) {
	steps := serverRuns * serverRunSteps
	// A chain runs one step at a time, so the server runs at most
	// max-concurrent-runs x 1 step processes at once.
	maxRuns, parallelism := b.cpus, 1
	r := &result{Name: "server-500-runs", Steps: steps,
		Baseline: fmt.Sprintf("%d direct spawns, %d at a time", steps, maxRuns*parallelism)}
	file := filepath.Join(b.dir, r.Name+".yaml")
	out, err := b.compile(ctx, filepath.Join(b.repo, "test", "bench", "pipelines.py"), "chain", strconv.Itoa(serverRunSteps), file)
	if err != nil {
		return r, fmt.Errorf("compiling the pipeline: %w", err)
	}
	var compiled struct {
		Steps [][]string `json:"steps"`
	}
	if err := json.Unmarshal(out, &compiled); err != nil {
		return r, fmt.Errorf("pipelines.py printed %q: %w", tail(string(out), 3), err)
	}
	if len(compiled.Steps) != serverRunSteps {
		return r, fmt.Errorf("pipelines.py printed %d command lines, want %d", len(compiled.Steps), serverRunSteps)
	}
	var argvs [][]string
	for i := 0; i < serverRuns; i++ {
		for _, argv := range compiled.Steps {
			for _, a := range argv {
				if strings.Contains(a, "{{$") {
					return r, fmt.Errorf("command line %q holds a placeholder: the baseline could not run the same command", argv)
				}
			}
			argvs = append(argvs, argv)
		}
	}
	flags := []string{"--parallelism", strconv.Itoa(parallelism), "--max-concurrent-runs", strconv.Itoa(maxRuns)}
	fmt.Printf("   %d runs of a %d-step chain, each step running %q, submitted by %d concurrent clients; weir server %s; baseline %s\n",
		serverRuns, serverRunSteps, compiled.Steps[0], serverClients, strings.Join(flags, " "), r.Baseline)
	workDir := filepath.Join(b.dir, "spawn", r.Name)
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return r, err
	}

	var reps []*serverRunsRep
	var creates, polls, gets []time.Duration
	for i := 0; i < b.reps; i++ {
		var rep *serverRunsRep
		var base time.Duration
		var werr, berr error
		last := i == b.reps-1
		baseOnce := func() {
			c0 := rusage(syscall.RUSAGE_CHILDREN)
			base, berr = spawnAll(ctx, argvs, maxRuns*parallelism, workDir)
			if berr == nil {
				fmt.Printf("   baseline %s (step processes' CPU %s)\n", ms(base), ms(rusage(syscall.RUSAGE_CHILDREN)-c0))
			}
		}
		if i%2 == 1 {
			baseOnce()
		}
		if berr == nil {
			rep, werr = b.serverRunsOnce(ctx, file, flags, last)
		}
		if werr == nil && berr == nil && i%2 == 0 {
			baseOnce()
		}
		if werr != nil {
			return r, werr
		}
		if berr != nil {
			return r, fmt.Errorf("baseline: %w", berr)
		}
		reps = append(reps, rep)
		r.Weir = append(r.Weir, rep.wall)
		r.Base = append(r.Base, base)
		r.Internal = append(r.Internal, rep.span)
		r.TaskSum = append(r.TaskSum, rep.steps)
		creates = append(creates, rep.creates...)
		polls = append(polls, rep.polls...)
		gets = append(gets, rep.gets...)
		fmt.Printf("   rep %-4d weir %s (%.1f runs/s, %.0f steps/s; all submitted after %s; creates %s; polls %s; other processes' CPU %s)   baseline %s\n",
			i+1, ms(rep.wall), serverRuns/rep.wall.Seconds(), float64(steps)/rep.wall.Seconds(), ms(rep.submitted),
			latencies(rep.creates), latencies(rep.polls), ms(rep.othersCPU), ms(base))
	}

	medianOf := func(f func(*serverRunsRep) time.Duration) time.Duration {
		var ds []time.Duration
		for _, rep := range reps {
			ds = append(ds, f(rep))
		}
		return median(ds)
	}
	wall := median(r.Weir)
	serverCPU := medianOf(func(x *serverRunsRep) time.Duration { return x.serverCPU })
	r.Info = append(r.Info,
		fmt.Sprintf("weir server %s: %.1f runs/s, %.0f steps/s completed (medians over %d repetitions; wall = first create request to the last run's finished_at); baseline %.0f steps/s",
			strings.Join(flags, " "), serverRuns/wall.Seconds(), float64(steps)/wall.Seconds(), len(reps), float64(steps)/median(r.Base).Seconds()),
		fmt.Sprintf("API latency, all repetitions pooled: POST /runs %s; polling GET /runs?filter=state %s; GET /runs/{id} after the runs ended (sequential) %s",
			latencies(creates), latencies(polls), latencies(gets)),
		fmt.Sprintf("all %d runs submitted after %s (median); the poll saw them all succeeded after %s (median, polling every %s)",
			serverRuns, ms(medianOf(func(x *serverRunsRep) time.Duration { return x.submitted })),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.detected })), ms(serverPollInterval)),
		fmt.Sprintf("per run (medians of the sums / %d runs): waiting for a driving slot + planning %s; %d steps %s (%s each); between steps %s; last step to run end %s",
			serverRuns,
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.queue })/serverRuns),
			serverRunSteps, ms(medianOf(func(x *serverRunsRep) time.Duration { return x.steps })/serverRuns),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.steps })/time.Duration(steps)),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.between })/serverRuns),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.tail })/serverRuns)),
		fmt.Sprintf("step duration (task start_time to end_time, pooled): %s in runs whose first step started while create requests were being answered, %s in the others; a direct spawn in the baseline: %s",
			perStep(reps, true), perStep(reps, false), ms(median(r.Base)*time.Duration(maxRuns*parallelism)/time.Duration(steps))),
		fmt.Sprintf("CPU in the measured window (medians, %d CPUs x wall = %s available): weir server %s (%s per run, %s per step), its step processes %s, the bench's clients %s, other processes on the machine %s",
			b.cpus, ms(time.Duration(b.cpus)*wall),
			ms(serverCPU), ms(serverCPU/serverRuns), ms(serverCPU/time.Duration(steps)),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.stepsCPU })),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.clientCPU })),
			ms(medianOf(func(x *serverRunsRep) time.Duration { return x.othersCPU }))),
	)
	if rssAfterLoad > 0 {
		r.Info = append(r.Info, fmt.Sprintf("VmRSS of the last repetition's server, idle %s after its %d runs ended: %s", serverIdleWait, serverRuns, mib(rssAfterLoad)))
	}
	return r, nil
}

// serverRunsOnce starts a server in a fresh WEIR_HOME, uploads the
// pipeline, submits the runs, waits for them to succeed and stops the
// server. With idleRSS it also reads the server's RSS once it is idle.
func (b *bench) serverRunsOnce(ctx context.Context, file string, flags []string, idleRSS bool) (*serverRunsRep, error) {
	home, err := b.newHome("server-500-runs")
	if err != nil {
		return nil, err
	}
	srv, err := b.startServer(ctx, home, flags...)
	if err != nil {
		return nil, err
	}
	rep, err := submitAndWait(ctx, srv, file)
	if err == nil && idleRSS {
		if err = sleepCtx(ctx, serverIdleWait); err == nil {
			rep.rssIdle, err = rssMedian(ctx, srv.pid, 5, 100*time.Millisecond)
			rssAfterLoad = rep.rssIdle
		}
	}
	if serr := srv.stop(); err == nil {
		err = serr
	}
	if err != nil {
		var failure *runFailure
		if !errors.As(err, &failure) {
			return nil, err
		}
		failure.msg += fmt.Sprintf("\nweir server (WEIR_HOME=%s) stderr:\n%s", home, indent(tail(srv.log(), 20)))
		return nil, failure
	}
	return rep, nil
}

// submitAndWait uploads the pipeline, submits the runs from serverClients
// goroutines while polling their states, and checks every run succeeded.
func submitAndWait(ctx context.Context, srv *weirServer, file string) (*serverRunsRep, error) {
	pipelineID, versionID, err := srv.uploadPipeline(ctx, file, "bench-server-chain")
	if err != nil {
		return nil, err
	}
	rep := &serverRunsRep{}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, serverRunsTimeout)
	defer cancel()

	cpu0, child0, err := procCPU(srv.pid)
	if err != nil {
		return nil, err
	}
	self0, busy0 := rusage(syscall.RUSAGE_SELF), machineBusy()
	start := time.Now()

	// Submit.
	var creates latencySet
	jobs := make(chan int)
	errs := make(chan error, serverClients+1)
	var wg sync.WaitGroup
	var submitted time.Time
	var submittedMu sync.Mutex
	for range serverClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := fmt.Sprintf(`{"display_name":"bench-%03d","pipeline_version_reference":{"pipeline_id":%q,"pipeline_version_id":%q}}`,
					i, pipelineID, versionID)
				var created apiRun
				took, err := srv.call(ctx, http.MethodPost, apiPrefix+"/runs", "application/json", []byte(body), &created)
				if err == nil && created.RunID == "" {
					err = &runFailure{"POST /runs answered a run without run_id"}
				}
				if err != nil {
					errs <- err
					cancel()
					return
				}
				creates.add(took)
				submittedMu.Lock()
				submitted = time.Now()
				submittedMu.Unlock()
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := 0; i < serverRuns; i++ {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()

	// Poll until every run succeeded, one failed, or the time is up.
	var polls []time.Duration
	succeededPath := apiPrefix + "/runs?page_size=1&filter=" + stateFilter("SUCCEEDED")
	failedPath := apiPrefix + "/runs?page_size=1&filter=" + stateFilter("FAILED", "CANCELED")
	var pollErr error
	for {
		if err := sleepCtx(ctx, serverPollInterval); err != nil {
			pollErr = err
			break
		}
		var ok, bad runList
		took, err := srv.call(ctx, http.MethodGet, succeededPath, "", nil, &ok)
		if err != nil {
			pollErr = err
			break
		}
		polls = append(polls, took)
		took, err = srv.call(ctx, http.MethodGet, failedPath, "", nil, &bad)
		if err != nil {
			pollErr = err
			break
		}
		polls = append(polls, took)
		if bad.TotalSize > 0 {
			r := bad.Runs[0]
			msg := ""
			if r.Error != nil {
				msg = r.Error.Message
			}
			pollErr = &runFailure{fmt.Sprintf("%d run(s) did not succeed, e.g. run %s is %s: %s", bad.TotalSize, r.RunID, r.State, msg)}
			break
		}
		if ok.TotalSize >= serverRuns {
			rep.detected = time.Since(start)
			break
		}
	}
	cpu1, child1, cpuErr := procCPU(srv.pid)
	self1, busy1 := rusage(syscall.RUSAGE_SELF), machineBusy()
	cancel()
	wg.Wait()
	close(errs)
	var clientErr error
	for err := range errs {
		if clientErr == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			clientErr = err
		}
	}
	if clientErr != nil {
		return nil, clientErr
	}
	if pollErr != nil {
		if errors.Is(pollErr, context.DeadlineExceeded) && parent.Err() == nil {
			return nil, &runFailure{fmt.Sprintf("the %d runs did not all succeed within %v of the first submission", serverRuns, serverRunsTimeout)}
		}
		if parent.Err() != nil {
			return nil, parent.Err()
		}
		return nil, pollErr
	}
	if cpuErr != nil {
		return nil, cpuErr
	}
	rep.creates, rep.polls = creates.all(), polls
	rep.submitted = submitted.Sub(start)
	rep.serverCPU, rep.stepsCPU, rep.clientCPU = cpu1-cpu0, child1-child0, self1-self0
	rep.othersCPU = max(busy1-busy0-rep.serverCPU-rep.stepsCPU-rep.clientCPU, 0)

	// Every run, from one listing, then each run's tasks.
	bg, cancel2 := context.WithTimeout(parent, serverRunsTimeout)
	defer cancel2()
	var all runList
	if _, err := srv.call(bg, http.MethodGet, apiPrefix+"/runs?page_size=1000", "", nil, &all); err != nil {
		return nil, err
	}
	if len(all.Runs) != serverRuns || all.TotalSize != serverRuns {
		return nil, &runFailure{fmt.Sprintf("the server lists %d run(s) (total_size %d), want %d", len(all.Runs), all.TotalSize, serverRuns)}
	}
	var firstCreated, lastFinished time.Time
	for _, run := range all.Runs {
		if run.State != "SUCCEEDED" {
			return nil, &runFailure{fmt.Sprintf("run %s is %s, want SUCCEEDED", run.RunID, run.State)}
		}
		c, err1 := parseStamp(run.CreatedAt)
		f, err2 := parseStamp(run.FinishedAt)
		if err1 != nil || err2 != nil {
			return nil, &runFailure{fmt.Sprintf("run %s: created_at %v, finished_at %v", run.RunID, err1, err2)}
		}
		if firstCreated.IsZero() || c.Before(firstCreated) {
			firstCreated = c
		}
		if f.After(lastFinished) {
			lastFinished = f
		}
		var one apiRun
		took, err := srv.call(bg, http.MethodGet, apiPrefix+"/runs/"+run.RunID, "", nil, &one)
		if err != nil {
			return nil, err
		}
		rep.gets = append(rep.gets, took)
		if err := rep.addTasks(&one, c, f, submitted); err != nil {
			return nil, err
		}
	}
	rep.wall = lastFinished.Sub(start)
	rep.span = lastFinished.Sub(firstCreated)
	if rep.wall <= 0 || rep.wall > rep.detected {
		// The wall clock moved: fall back on what the polls saw.
		rep.wall = rep.detected
	}
	return rep, nil
}

// addTasks checks a run's task details and adds its breakdown to the
// repetition's sums.
func (rep *serverRunsRep) addTasks(r *apiRun, created, finished, submitted time.Time) error {
	if r.RunDetails == nil || len(r.RunDetails.Tasks) != serverRunSteps {
		n := 0
		if r.RunDetails != nil {
			n = len(r.RunDetails.Tasks)
		}
		return &runFailure{fmt.Sprintf("run %s has %d task(s), want %d", r.RunID, n, serverRunSteps)}
	}
	type span struct{ create, start, end time.Time }
	var spans []span
	for _, t := range r.RunDetails.Tasks {
		if t.State != "SUCCEEDED" {
			return &runFailure{fmt.Sprintf("run %s: task %s is %s, want SUCCEEDED", r.RunID, t.Name, t.State)}
		}
		c, err1 := parseStamp(t.Create)
		s, err2 := parseStamp(t.Start)
		e, err3 := parseStamp(t.End)
		if err1 != nil || err2 != nil || err3 != nil {
			return &runFailure{fmt.Sprintf("run %s: task %s lacks a timestamp", r.RunID, t.Name)}
		}
		spans = append(spans, span{c, s, e})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	firstCreate := spans[0].create
	for i, sp := range spans {
		if sp.create.Before(firstCreate) {
			firstCreate = sp.create
		}
		rep.steps += sp.end.Sub(sp.start)
		if i > 0 {
			rep.between += sp.start.Sub(spans[i-1].end)
		}
	}
	var sum time.Duration
	for _, sp := range spans {
		sum += sp.end.Sub(sp.start)
	}
	if spans[0].start.Before(submitted) {
		rep.stepsBusy += sum
		rep.nBusy += len(spans)
	} else {
		rep.stepsAfter += sum
		rep.nAfter += len(spans)
	}
	rep.queue += firstCreate.Sub(created)
	rep.tail += finished.Sub(spans[len(spans)-1].end)
	return nil
}

// perStep returns the mean step duration, over all repetitions, of the
// runs that started while creates were in flight (busy) or after.
func perStep(reps []*serverRunsRep, busy bool) string {
	var sum time.Duration
	n := 0
	for _, rep := range reps {
		if busy {
			sum, n = sum+rep.stepsBusy, n+rep.nBusy
		} else {
			sum, n = sum+rep.stepsAfter, n+rep.nAfter
		}
	}
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d steps)", ms(sum/time.Duration(n)), n)
}
