package run

import "time"

// Run is one execution of a pipeline.
type Run struct {
	ID           string
	PipelineName string
	DisplayName  string
	// Spec is the pipeline document exactly as submitted.
	Spec []byte
	// SpecFile names where the spec came from (a path, or an upload name).
	SpecFile     string
	Parameters   map[string]any
	PipelineRoot string
	Options      Options
	Phase        Phase
	Error        string
	CreatedAt    time.Time
	StartedAt    time.Time
	FinishedAt   time.Time

	// Catalog links and bookkeeping of runs submitted to a server.
	ExperimentID      string
	PipelineID        string
	PipelineVersionID string
	Description       string
	StorageState      string // StorageAvailable or StorageArchived
	ServiceAccount    string
	RecurringRunID    string
	// CancelRequested records a terminate request, so that a restarted
	// server goes on canceling the run.
	CancelRequested bool
	// JournalSeq is the sequence number of the last record of the run's
	// journal that the store holds (0: none). The engine sets it through
	// Changes.Journal; it is not written by inserts or updates of the run.
	JournalSeq int64
}

// Options are the per-run knobs that change how, not what, a run executes.
type Options struct {
	Parallelism int  `json:"parallelism,omitempty"`
	NoCache     bool `json:"no_cache,omitempty"`
	// TaskTimeout bounds every attempt that has no timeout of its own.
	TaskTimeout time.Duration `json:"task_timeout,omitempty"`
}

// Kind says what a TaskRun stands for in the plan.
type Kind string

const (
	KindContainer Kind = "container" // runs a command through an executor
	KindImporter  Kind = "importer"  // registers an existing artifact
	KindDAG       Kind = "dag"       // a sub-DAG (nested pipeline, condition, exit handler)
	KindLoop      Kind = "loop"      // a ParallelFor: its children are iterations
	KindIteration Kind = "iteration" // one item of a loop: its children are the loop body's tasks
)

// TaskRun is one Task of the plan inside one Run.
type TaskRun struct {
	ID    string
	RunID string
	// Path locates the task in the plan: task names joined by "/", e.g.
	// "train" or "outer/inner".
	Path      string
	Name      string
	ParentID  string
	Component string
	Kind      Kind
	Phase     Phase
	Error     string
	// Inputs are the resolved input parameter values.
	Inputs map[string]any
	// Outputs are the output parameter values, typed as declared.
	Outputs    map[string]any
	CacheKey   string
	CachedFrom string // the attempt whose results a cached task reused
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Attempt is one try at executing a TaskRun.
type Attempt struct {
	ID        string
	TaskRunID string
	Number    int // 1-based
	Phase     Phase
	// Handle is the executor's durable reference to the process.
	Handle     string
	ExitCode   *int
	Error      string
	LogPath    string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// Artifact is a stored output: a URI, a type and metadata.
type Artifact struct {
	ID            string
	RunID         string
	URI           string
	SchemaTitle   string
	SchemaVersion string
	Metadata      map[string]any
	Digest        string // "sha256:<hex>" of the content; empty when unknown
	Size          int64
	CreatedAt     time.Time
}

// EventKind says whether a task produced or consumed an artifact.
type EventKind string

const (
	EventOutput EventKind = "output"
	EventInput  EventKind = "input"
)

// ArtifactEvent is one edge of lineage: an attempt produced or consumed an
// artifact under an input or output name.
type ArtifactEvent struct {
	ArtifactID string
	TaskRunID  string
	AttemptID  string
	Kind       EventKind
	Name       string
	Index      int // position within an artifact list
	CreatedAt  time.Time
}
