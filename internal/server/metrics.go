package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
)

// metrics holds what /metrics exposes: runs and tasks by state and the
// scheduling queue (read from the store at scrape time), task durations
// (observed from engine events) and API latency.
type metrics struct {
	reg          *prometheus.Registry
	apiLatency   *prometheus.HistogramVec
	taskDuration *prometheus.HistogramVec
}

// StateCounter is what the metrics read from the store at scrape time.
type StateCounter interface {
	CountRunsByPhase(ctx context.Context) (map[run.Phase]int, error)
	CountTaskRunsByPhase(ctx context.Context) (map[run.Phase]int, error)
}

func newMetrics(st StateCounter, svc *engine.Service) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.apiLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "weir_api_request_duration_seconds", Help: "API request latency by route and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route", "code"})
	m.taskDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "weir_task_duration_seconds", Help: "Duration of ended task attempts by final state.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 14),
	}, []string{"state"})
	m.reg.MustRegister(m.apiLatency, m.taskDuration, &stateCollector{st: st, svc: svc},
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// observe records an ended attempt's duration.
func (m *metrics) observe(ev engine.Event) {
	a := ev.Attempt
	if a == nil || !a.Phase.Terminal() || a.StartedAt.IsZero() || a.FinishedAt.IsZero() {
		return
	}
	m.taskDuration.WithLabelValues(string(a.Phase)).Observe(a.FinishedAt.Sub(a.StartedAt).Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) request(route string, code int, took time.Duration) {
	m.apiLatency.WithLabelValues(route, strconv.Itoa(code)).Observe(took.Seconds())
}

type stateCollector struct {
	st  StateCounter
	svc *engine.Service
}

var (
	runsDesc   = prometheus.NewDesc("weir_runs", "Runs stored, by state.", []string{"state"}, nil)
	tasksDesc  = prometheus.NewDesc("weir_task_runs", "Task runs stored, by state.", []string{"state"}, nil)
	queueDesc  = prometheus.NewDesc("weir_run_queue_depth", "Runs waiting to be driven (not ended and not being driven).", nil, nil)
	activeDesc = prometheus.NewDesc("weir_runs_driven", "Runs being driven now.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- runsDesc
	ch <- tasksDesc
	ch <- queueDesc
	ch <- activeDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	runs, err := c.st.CountRunsByPhase(ctx)
	if err == nil {
		for _, ph := range run.Phases {
			ch <- prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, float64(runs[ph]), string(ph))
		}
		active := len(c.svc.Active())
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(active))
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(max(0, runs[run.Pending]+runs[run.Running]-active)))
	}
	if tasks, err := c.st.CountTaskRunsByPhase(ctx); err == nil {
		for _, ph := range run.Phases {
			ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(tasks[ph]), string(ph))
		}
	}
}
