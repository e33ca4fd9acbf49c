package engine

import (
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

func TestDueTimes(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	every := &run.RecurringRun{Interval: time.Minute, CreatedAt: t0}
	sched, err := ParseSchedule(every)
	if err != nil {
		t.Fatal(err)
	}
	got := due(every, sched, t0.Add(3*time.Minute+30*time.Second))
	if len(got) != 3 || !got[0].Equal(t0.Add(time.Minute)) || !got[2].Equal(t0.Add(3*time.Minute)) {
		t.Errorf("catch-up times = %v", got)
	}
	every.NoCatchup = true
	if got := due(every, sched, t0.Add(3*time.Minute+30*time.Second)); len(got) != 1 || !got[0].Equal(t0.Add(3*time.Minute)) {
		t.Errorf("no-catchup times = %v", got)
	}
	every.NoCatchup, every.LastScheduledAt = false, t0.Add(3*time.Minute)
	if got := due(every, sched, t0.Add(3*time.Minute+30*time.Second)); len(got) != 0 {
		t.Errorf("after the last fired time: %v", got)
	}
	every.EndAt = t0.Add(4 * time.Minute)
	if got := due(every, sched, t0.Add(10*time.Minute)); len(got) != 1 {
		t.Errorf("end time not honoured: %v", got)
	}

	cronRR := &run.RecurringRun{Cron: "0 30 * * * *", StartAt: t0}
	cs, err := ParseSchedule(cronRR)
	if err != nil {
		t.Fatal(err)
	}
	if got := due(cronRR, cs, t0.Add(90*time.Minute)); len(got) != 2 || got[0].Minute() != 30 {
		t.Errorf("cron times = %v", got)
	}
	for _, bad := range []*run.RecurringRun{{Cron: "not a cron"}, {Interval: 0}} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%+v) accepted", bad)
		}
	}
}
