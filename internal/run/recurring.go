package run

import "time"

// RecurringRun starts runs of a pipeline on a schedule: a cron expression
// or a fixed interval.
type RecurringRun struct {
	ID                string
	DisplayName       string
	Description       string
	ExperimentID      string
	PipelineID        string
	PipelineVersionID string
	Spec              []byte
	Parameters        map[string]any
	PipelineRoot      string
	ServiceAccount    string
	// Cron is a cron expression (seconds optional, as KFP writes them);
	// Interval is used when Cron is empty.
	Cron     string
	Interval time.Duration
	StartAt  time.Time // zero: from creation
	EndAt    time.Time // zero: forever
	// MaxConcurrency caps runs of this schedule that have not ended.
	MaxConcurrency int
	// NoCatchup fires only the latest missed time instead of every one.
	NoCatchup bool
	Enabled   bool
	Namespace string
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastScheduledAt is the schedule time of the last run started.
	LastScheduledAt time.Time
}
