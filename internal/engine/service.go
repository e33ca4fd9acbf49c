package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// ServiceStore is what a Service needs beyond the engine's Store.
type ServiceStore interface {
	Store
	RunsToDrive(ctx context.Context) ([]string, error)
	RequestCancel(ctx context.Context, id string) (bool, error)
}

// Service drives every run of a store, at most max at once: it resumes
// runs that were going when it started, starts submitted runs in order, and
// cancels runs on request. It is what `weir server` runs.
type Service struct {
	eng   *Engine
	store ServiceStore
	max   int
	log   *slog.Logger

	mu     sync.Mutex
	active map[string]chan struct{} // run id -> closed to cancel the run
	wake   chan struct{}
	wg     sync.WaitGroup
	done   chan string // runs that stopped being driven
}

// NewService returns a service; maxRuns <= 0 means no limit.
func NewService(eng *Engine, store ServiceStore, maxRuns int, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{eng: eng, store: store, max: maxRuns, log: log,
		active: map[string]chan struct{}{}, wake: make(chan struct{}, 1), done: make(chan string, 64)}
}

// Wake asks the service to look for runs to start.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run drives runs until ctx is canceled, then stops driving them (they
// resume at the next start) and returns.
func (s *Service) Run(ctx context.Context) error {
	// A store that keeps recurring runs gets its schedules fired too.
	if ss, ok := s.store.(ScheduleStore); ok {
		sched := NewScheduler(ss, s, s.log)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sched.Run(ctx)
		}()
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		if err := s.fill(ctx); err != nil {
			s.log.Error("scheduling runs", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return nil
		case <-s.wake:
		case <-s.done:
		case <-tick.C:
		}
	}
}

// fill starts driving runs that are not ended and not driven yet.
func (s *Service) fill(ctx context.Context) error {
	ids, err := s.store.RunsToDrive(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.active[id]; ok {
			continue
		}
		if s.max > 0 && len(s.active) >= s.max {
			break
		}
		cancel := make(chan struct{})
		s.active[id] = cancel
		s.wg.Add(1)
		go s.drive(ctx, id, cancel)
	}
	return nil
}

func (s *Service) drive(ctx context.Context, id string, cancel chan struct{}) {
	defer s.wg.Done()
	final, err := s.eng.Drive(ctx, id, cancel)
	switch {
	case errors.Is(err, ErrDetached):
	case err != nil:
		s.log.Error("driving run", slog.String("run_id", id), slog.Any("err", err))
	default:
		s.log.Info("run ended", slog.String("run_id", id), slog.String("state", string(final.Phase)))
	}
	s.mu.Lock()
	delete(s.active, id)
	s.mu.Unlock()
	select {
	case s.done <- id:
	default:
	}
}

// Terminate cancels a run: the request is stored first (so it survives a
// restart), then the run's driver is told.
func (s *Service) Terminate(ctx context.Context, id string) error {
	if _, err := s.store.RequestCancel(ctx, id); err != nil {
		return err
	}
	s.mu.Lock()
	if c, ok := s.active[id]; ok {
		select {
		case <-c:
		default:
			close(c)
		}
	}
	s.mu.Unlock()
	s.Wake()
	return nil
}

// Active returns the ids of the runs being driven.
func (s *Service) Active() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.active))
	for id := range s.active {
		out = append(out, id)
	}
	return out
}

// Submit stores a run and wakes the scheduler. p, if not nil, is the
// run's pipeline as Prepare decoded it (see Engine.UsePipeline).
func (s *Service) Submit(ctx context.Context, r *run.Run, p *spec.Pipeline) error {
	if err := s.store.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}); err != nil {
		return err
	}
	s.eng.UsePipeline(r.ID, p)
	s.Wake()
	return nil
}
