package run

// Changes is a batch of writes committed in one transaction. Updates are
// checked against the phase transition table: an illegal transition aborts
// the whole batch.
type Changes struct {
	NewRuns      []*Run
	Runs         []*Run // updates: phase, error, timestamps
	NewTaskRuns  []*TaskRun
	TaskRuns     []*TaskRun // updates: phase, error, inputs, outputs, cache, timestamps
	NewAttempts  []*Attempt
	Attempts     []*Attempt // updates: phase, handle, exit code, error, timestamps
	NewArtifacts []*Artifact
	Events       []*ArtifactEvent
	// Journal, when set, records in the same transaction that the run's
	// journal is applied up to this record.
	Journal *JournalMark
}

// JournalMark names the last journal record of a run that a batch of
// changes includes.
type JournalMark struct {
	RunID string
	Seq   int64
}

// Empty reports whether the batch holds nothing.
func (c *Changes) Empty() bool {
	return len(c.NewRuns)+len(c.Runs)+len(c.NewTaskRuns)+len(c.TaskRuns)+
		len(c.NewAttempts)+len(c.Attempts)+len(c.NewArtifacts)+len(c.Events) == 0 && c.Journal == nil
}

// Snapshot is everything stored about one run.
type Snapshot struct {
	Run       *Run
	TaskRuns  []*TaskRun
	Attempts  []*Attempt
	Artifacts []*Artifact
	Events    []*ArtifactEvent
}

// CacheHit is an earlier successful task run whose results can be reused.
type CacheHit struct {
	TaskRun   *TaskRun
	AttemptID string
	// Artifacts are its output artifacts by output name.
	Artifacts map[string][]*Artifact
}

// Reopen is one task run a retry sets back to Pending or Running.
type Reopen struct {
	TaskRunID string
	Phase     Phase
}

// Compact drops repeated updates of the same record (records are passed by
// pointer, so the last state is what every copy holds) and updates of
// records inserted by the same batch (the insert already writes their last
// state). A batch may so carry a record through several phases; the store
// checks the transition from the stored phase to the last one.
func (c *Changes) Compact() {
	c.Runs = compact(c.Runs, c.NewRuns)
	c.TaskRuns = compact(c.TaskRuns, c.NewTaskRuns)
	c.Attempts = compact(c.Attempts, c.NewAttempts)
}

func compact[T any](updates, inserted []*T) []*T {
	if len(updates) < 2 && len(inserted) == 0 {
		return updates
	}
	seen := make(map[*T]bool, len(updates)+len(inserted))
	for _, p := range inserted {
		seen[p] = true
	}
	out := updates[:0]
	for _, p := range updates {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
