package run

import "time"

// Pipeline is a named pipeline in the catalog; its specs are its versions.
type Pipeline struct {
	ID          string
	Name        string // unique
	DisplayName string
	Description string
	Namespace   string
	CreatedAt   time.Time
}

// PipelineVersion is one uploaded spec of a Pipeline.
type PipelineVersion struct {
	ID          string
	PipelineID  string
	Name        string // unique within its pipeline
	DisplayName string
	Description string
	Spec        []byte // the document as uploaded
	CreatedAt   time.Time
}

// Storage states of runs and experiments.
const (
	StorageAvailable = "AVAILABLE"
	StorageArchived  = "ARCHIVED"
)

// Experiment groups runs.
type Experiment struct {
	ID               string
	DisplayName      string
	Description      string
	Namespace        string
	StorageState     string
	CreatedAt        time.Time
	LastRunCreatedAt time.Time
}
