package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The server benchmarks start `weir server` on 127.0.0.1 with --addr
// 127.0.0.1:0 (the kernel picks a free port; the server prints it) and talk
// to it over HTTP like kfp.Client does.

const (
	// serverLifetime bounds one `weir server` process: it gets SIGTERM
	// when this expires (and SIGKILL 10s later), so the bench always stops.
	serverLifetime = 4 * time.Minute
	// serverStartTimeout bounds the wait for the server's first line.
	serverStartTimeout = 30 * time.Second
	// apiTimeout bounds one HTTP request.
	apiTimeout = 60 * time.Second
	// apiPrefix is the KFP v2beta1 REST API.
	apiPrefix = "/apis/v2beta1"
)

// weirServer is one running `weir server` process.
type weirServer struct {
	cmd    *exec.Cmd
	pid    int
	base   string // http://127.0.0.1:PORT
	home   string
	logf   string // its stderr
	cancel context.CancelFunc
	exited chan struct{}
	err    error // the Wait error, set when exited is closed
	client *http.Client
}

// startServer runs `weir server --addr 127.0.0.1:0 ARGS...` with
// WEIR_HOME=home and waits until it answers GET /apis/v2beta1/healthz.
func (b *bench) startServer(ctx context.Context, home string, args ...string) (*weirServer, error) {
	sctx, cancel := context.WithTimeout(ctx, serverLifetime)
	argv := append([]string{"server", "--addr", "127.0.0.1:0"}, args...)
	cmd := exec.CommandContext(sctx, b.weirBin, argv...)
	cmd.Dir = home
	cmd.Env = b.weirEnv(home)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	logf := filepath.Join(home, "server.log")
	errFile, err := os.Create(logf)
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stderr = errFile
	// The first stdout line says where it listens:
	// "weir server listening on http://127.0.0.1:PORT (WEIR_HOME ...)".
	first := &lineCatcher{line: make(chan string, 1)}
	cmd.Stdout = first
	if err := cmd.Start(); err != nil {
		cancel()
		errFile.Close()
		return nil, fmt.Errorf("starting weir server: %w", err)
	}
	errFile.Close() // the child has its own copy
	s := &weirServer{cmd: cmd, pid: cmd.Process.Pid, home: home, logf: logf, cancel: cancel, exited: make(chan struct{}),
		client: newAPIClient()}
	lines := first.line
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	describe := func() string {
		return fmt.Sprintf("weir %s (WEIR_HOME=%s)\nstderr:\n%s", strings.Join(argv, " "), home, indent(tail(s.log(), 40)))
	}
	select {
	case line := <-lines:
		_, rest, found := strings.Cut(line, "listening on ")
		addr, _, _ := strings.Cut(rest, " ")
		if !found || !strings.HasPrefix(addr, "http://") {
			s.stop()
			return nil, &runFailure{fmt.Sprintf("weir server did not print its address (first line %q): %s", line, describe())}
		}
		s.base = addr
	case <-s.exited:
		s.stop()
		return nil, &runFailure{fmt.Sprintf("weir server exited (%v) before printing its address: %s", s.err, describe())}
	case <-time.After(serverStartTimeout):
		s.stop()
		return nil, &runFailure{fmt.Sprintf("weir server printed nothing within %v: %s", serverStartTimeout, describe())}
	case <-ctx.Done():
		s.stop()
		return nil, ctx.Err()
	}
	deadline := time.Now().Add(serverStartTimeout)
	for {
		code, _, _, err := s.do(ctx, http.MethodGet, apiPrefix+"/healthz", "", nil)
		if err == nil && code == http.StatusOK {
			return s, nil
		}
		select {
		case <-s.exited:
			s.stop()
			return nil, &runFailure{fmt.Sprintf("weir server exited (%v): %s", s.err, describe())}
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &runFailure{fmt.Sprintf("weir server does not answer healthz (%v): %s", err, describe())}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lineCatcher is a writer that hands over the first line written to it and
// discards the rest.
type lineCatcher struct {
	buf  []byte
	sent bool
	line chan string
}

func (f *lineCatcher) Write(p []byte) (int, error) {
	if !f.sent {
		f.buf = append(f.buf, p...)
		if i := bytes.IndexByte(f.buf, '\n'); i >= 0 {
			f.line <- string(f.buf[:i])
			f.sent, f.buf = true, nil
		}
	}
	return len(p), nil
}

// newAPIClient returns an HTTP client that keeps enough idle connections
// for the concurrent clients and never goes through a proxy.
func newAPIClient() *http.Client {
	return &http.Client{Timeout: apiTimeout, Transport: &http.Transport{
		Proxy: nil, MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
}

// log returns what the server wrote on stderr so far.
func (s *weirServer) log() string {
	data, _ := os.ReadFile(s.logf)
	return string(data)
}

// stop sends SIGTERM, waits for the server to exit (SIGKILL after 10s) and
// returns an error when it did not exit cleanly.
func (s *weirServer) stop() error {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	s.cancel()
	s.client.CloseIdleConnections()
	if s.err != nil {
		return &runFailure{fmt.Sprintf("weir server (WEIR_HOME=%s) did not exit cleanly: %v\nstderr:\n%s", s.home, s.err, indent(tail(s.log(), 20)))}
	}
	return nil
}

// do sends one request and reads the whole response; took runs from
// before the request is sent to after the last byte of the body is read.
func (s *weirServer) do(ctx context.Context, method, path, contentType string, body []byte) (code int, data []byte, took time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), err
	}
	data, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	took = time.Since(start)
	return resp.StatusCode, data, took, err
}

// call sends one request, requires 200 OK and decodes the JSON body into
// out (unless out is nil).
func (s *weirServer) call(ctx context.Context, method, path, contentType string, body []byte, out any) (time.Duration, error) {
	code, data, took, err := s.do(ctx, method, path, contentType, body)
	if err != nil {
		return took, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if code != http.StatusOK {
		return took, &runFailure{fmt.Sprintf("%s %s: HTTP %d: %s", method, path, code, tail(string(data), 5))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return took, fmt.Errorf("%s %s: decoding the response: %w", method, path, err)
		}
	}
	return took, nil
}

// uploadPipeline uploads a compiled pipeline the way kfp.Client does
// (multipart field "uploadfile") and returns its pipeline and version ids.
func (s *weirServer) uploadPipeline(ctx context.Context, file, name string) (pipelineID, versionID string, err error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("uploadfile", filepath.Base(file))
	if err != nil {
		return "", "", err
	}
	if _, err := fw.Write(data); err != nil {
		return "", "", err
	}
	if err := mw.Close(); err != nil {
		return "", "", err
	}
	var p struct {
		PipelineID string `json:"pipeline_id"`
	}
	if _, err := s.call(ctx, http.MethodPost, apiPrefix+"/pipelines/upload?name="+url.QueryEscape(name), mw.FormDataContentType(), buf.Bytes(), &p); err != nil {
		return "", "", err
	}
	var vs struct {
		Versions []struct {
			ID string `json:"pipeline_version_id"`
		} `json:"pipeline_versions"`
	}
	if _, err := s.call(ctx, http.MethodGet, apiPrefix+"/pipelines/"+p.PipelineID+"/versions", "", nil, &vs); err != nil {
		return "", "", err
	}
	if p.PipelineID == "" || len(vs.Versions) != 1 || vs.Versions[0].ID == "" {
		return "", "", &runFailure{fmt.Sprintf("uploading %s: got pipeline %q with %d version(s)", file, p.PipelineID, len(vs.Versions))}
	}
	return p.PipelineID, vs.Versions[0].ID, nil
}

// procStatus reads one field of /proc/PID/status, in kB for the memory
// fields.
func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// rssMedian reads VmRSS n times, gap apart, and returns the median in
// bytes.
func rssMedian(ctx context.Context, pid, n int, gap time.Duration) (int64, error) {
	var reads []float64
	for i := 0; i < n; i++ {
		if i > 0 {
			if err := sleepCtx(ctx, gap); err != nil {
				return 0, err
			}
		}
		kb, err := procStatus(pid, "VmRSS")
		if err != nil {
			return 0, err
		}
		reads = append(reads, float64(kb))
	}
	return int64(median(reads)) * 1024, nil
}

// procCPU returns the process's own CPU time and that of its waited-for
// children, from /proc/PID/stat.
func procCPU(pid int) (self, children time.Duration, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name, in parentheses, may hold spaces: fields start
	// after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); utime, stime, cutime, cstime are fields
	// 14-17.
	if len(f) < 15 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	var ticks [4]int64
	for k := range ticks {
		if ticks[k], err = strconv.ParseInt(f[11+k], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	const hz = 100 // USER_HZ on Linux
	tick := time.Second / hz
	return time.Duration(ticks[0]+ticks[1]) * tick, time.Duration(ticks[2]+ticks[3]) * tick, nil
}

// machineBusy returns the CPU time all processes of the machine used since
// boot (every CPU's non-idle time, from /proc/stat).
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	// user nice system idle iowait irq softirq steal: all but idle and
	// iowait.
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * (time.Second / 100)
}

// rusage returns the CPU time (user + system) of this process or of its
// waited-for children.
func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// percentile returns the p-th percentile (nearest rank) of ds; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// latencies formats the p50 and p99 (and the count) of a set of request
// latencies.
func latencies(ds []time.Duration) string {
	return fmt.Sprintf("p50 %s, p99 %s (n=%d)", ms(percentile(ds, 50)), ms(percentile(ds, 99)), len(ds))
}

// mib formats a byte count in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// parseStamp reads an API timestamp (RFC 3339).
func parseStamp(s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, errors.New("missing timestamp")
	}
	return time.Parse(time.RFC3339Nano, *s)
}

// stateFilter returns the URL-escaped KFP filter on run states.
func stateFilter(states ...string) string {
	var f string
	if len(states) == 1 {
		f = fmt.Sprintf(`{"predicates":[{"key":"state","operation":"EQUALS","string_value":%q}]}`, states[0])
	} else {
		vals, _ := json.Marshal(states)
		f = fmt.Sprintf(`{"predicates":[{"key":"state","operation":"IN","string_values":{"values":%s}}]}`, vals)
	}
	return url.QueryEscape(f)
}

// latencySet collects request latencies from several goroutines.
type latencySet struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *latencySet) add(d time.Duration) {
	l.mu.Lock()
	l.ds = append(l.ds, d)
	l.mu.Unlock()
}

func (l *latencySet) all() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.ds...)
}
