package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/weir-dev/weir/internal/run"
)

// ScheduleStore is what the Scheduler needs.
type ScheduleStore interface {
	EnabledRecurringRuns(ctx context.Context) ([]*run.RecurringRun, error)
	ActiveRunsOf(ctx context.Context, recurringID string) (int, error)
	FireRecurring(ctx context.Context, recurringID string, scheduledAt time.Time, r *run.Run) (bool, error)
}

// cronParser reads KFP cron expressions: an optional leading seconds field,
// then minute, hour, day of month, month, day of week; @every and
// @hourly-style descriptors too.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule checks a recurring run's trigger and returns its schedule.
func ParseSchedule(r *run.RecurringRun) (cron.Schedule, error) {
	if r.Cron != "" {
		s, err := cronParser.Parse(r.Cron)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %w", r.Cron, err)
		}
		return s, nil
	}
	if r.Interval < time.Second {
		return nil, fmt.Errorf("interval %s: want at least one second", r.Interval)
	}
	return cron.Every(r.Interval), nil
}

// Scheduler starts the runs of recurring runs when they are due. Each
// start is stored together with the schedule time it serves, so a restart
// neither repeats nor (with catch-up) loses one.
type Scheduler struct {
	store ScheduleStore
	svc   *Service
	log   *slog.Logger
	// Tick is how often schedules are checked.
	Tick time.Duration
	now  func() time.Time
}

// NewScheduler returns a scheduler that submits through svc.
func NewScheduler(st ScheduleStore, svc *Service, log *slog.Logger) *Scheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{store: st, svc: svc, log: log, Tick: time.Second, now: time.Now}
}

// Run checks schedules until ctx ends.
func (sc *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(sc.Tick)
	defer t.Stop()
	for {
		sc.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check fires every schedule that is due now.
func (sc *Scheduler) Check(ctx context.Context) {
	rrs, err := sc.store.EnabledRecurringRuns(ctx)
	if err != nil {
		sc.log.Error("reading schedules", slog.Any("err", err))
		return
	}
	for _, rr := range rrs {
		if err := sc.fire(ctx, rr); err != nil {
			sc.log.Error("recurring run", slog.String("recurring_run_id", rr.ID), slog.Any("err", err))
		}
	}
}

// due returns the schedule times after the last fired one and up to now:
// all of them, or only the latest with NoCatchup.
func due(rr *run.RecurringRun, sched cron.Schedule, now time.Time) []time.Time {
	base := rr.LastScheduledAt
	if base.IsZero() {
		base = rr.StartAt
		if base.IsZero() {
			base = rr.CreatedAt
		}
		if rr.Cron != "" {
			base = base.Add(-time.Second) // the start time itself may match
		}
	}
	var out []time.Time
	for t := sched.Next(base); !t.After(now); t = sched.Next(t) {
		if !rr.EndAt.IsZero() && t.After(rr.EndAt) {
			break
		}
		out = append(out, t)
		if len(out) > 10000 {
			break // a schedule far behind: the rest comes next check
		}
	}
	if rr.NoCatchup && len(out) > 1 {
		out = out[len(out)-1:]
	}
	return out
}

func (sc *Scheduler) fire(ctx context.Context, rr *run.RecurringRun) error {
	sched, err := ParseSchedule(rr)
	if err != nil {
		return err
	}
	for _, at := range due(rr, sched, sc.now()) {
		if rr.MaxConcurrency > 0 {
			n, err := sc.store.ActiveRunsOf(ctx, rr.ID)
			if err != nil {
				return err
			}
			if n >= rr.MaxConcurrency {
				return nil // waits for a run to end
			}
		}
		r, pipe, _, err := Prepare(Submission{
			Spec: rr.Spec, SpecFile: rr.DisplayName, Params: rr.Parameters, PipelineRoot: rr.PipelineRoot,
			DisplayName: rr.DisplayName + "-" + at.UTC().Format("20060102150405"),
		})
		if err != nil {
			return fmt.Errorf("prepare run for %s: %w", at.Format(time.RFC3339), err)
		}
		r.RecurringRunID, r.ExperimentID, r.PipelineID, r.PipelineVersionID = rr.ID, rr.ExperimentID, rr.PipelineID, rr.PipelineVersionID
		r.ServiceAccount, r.StorageState = rr.ServiceAccount, run.StorageAvailable
		ok, err := sc.store.FireRecurring(ctx, rr.ID, at, r)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		rr.LastScheduledAt = at
		sc.log.Info("recurring run fired", slog.String("recurring_run_id", rr.ID), slog.String("run_id", r.ID), slog.Time("scheduled_at", at))
		if sc.svc != nil {
			sc.svc.eng.UsePipeline(r.ID, pipe)
			sc.svc.Wake()
		}
	}
	return nil
}
