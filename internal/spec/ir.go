// Package spec is weir's own model of a compiled pipeline (the KFP pipeline
// spec, "IR", schemaVersion 2.1.0) together with its decoder and validator.
// It is pure: it reads bytes and returns values and errors, nothing else.
//
// The structs mirror the IR's lowerCamelCase JSON names. Every field weir
// understands is declared here; any other field found in a document is
// reported as a Warning with its path, never dropped silently.
package spec

import "encoding/json"

// Pipeline is a decoded, validated pipeline document.
type Pipeline struct {
	PipelineInfo        PipelineInfo          `json:"pipelineInfo"`
	Root                Component             `json:"root"`
	Components          map[string]*Component `json:"components,omitempty"`
	DeploymentSpec      DeploymentSpec        `json:"deploymentSpec"`
	SchemaVersion       string                `json:"schemaVersion"`
	SDKVersion          string                `json:"sdkVersion,omitempty"`
	DefaultPipelineRoot string                `json:"defaultPipelineRoot,omitempty"`

	// Platforms holds the optional second YAML document (platform-specific
	// settings such as Kubernetes secrets and volumes), kept verbatim.
	Platforms json.RawMessage `json:"-"`
}

// PipelineInfo names the pipeline.
type PipelineInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// DeploymentSpec holds the executors that components refer to by label.
type DeploymentSpec struct {
	Executors map[string]*Executor `json:"executors,omitempty"`
}

// Component is either a DAG of tasks or a reference to an executor.
type Component struct {
	InputDefinitions  *Definitions `json:"inputDefinitions,omitempty"`
	OutputDefinitions *Definitions `json:"outputDefinitions,omitempty"`
	DAG               *DAG         `json:"dag,omitempty"`
	ExecutorLabel     string       `json:"executorLabel,omitempty"`
}

// Definitions declares a component's inputs or outputs.
type Definitions struct {
	Parameters map[string]*ParameterSpec `json:"parameters,omitempty"`
	Artifacts  map[string]*ArtifactSpec  `json:"artifacts,omitempty"`
}

// ParameterSpec declares one parameter.
type ParameterSpec struct {
	ParameterType ParameterType `json:"parameterType"`
	DefaultValue  any           `json:"defaultValue,omitempty"`
	IsOptional    bool          `json:"isOptional,omitempty"`
	Description   string        `json:"description,omitempty"`
}

// ArtifactSpec declares one artifact.
type ArtifactSpec struct {
	ArtifactType   ArtifactType `json:"artifactType"`
	IsArtifactList bool         `json:"isArtifactList,omitempty"`
	IsOptional     bool         `json:"isOptional,omitempty"`
	Description    string       `json:"description,omitempty"`
}

// ArtifactType names an artifact's schema, e.g. system.Dataset.
type ArtifactType struct {
	SchemaTitle    string `json:"schemaTitle,omitempty"`
	SchemaVersion  string `json:"schemaVersion,omitempty"`
	InstanceSchema string `json:"instanceSchema,omitempty"`
}

// DAG is a component made of tasks.
type DAG struct {
	Tasks   map[string]*Task `json:"tasks,omitempty"`
	Outputs *DAGOutputs      `json:"outputs,omitempty"`
}

// DAGOutputs maps a DAG component's outputs to outputs of its tasks.
type DAGOutputs struct {
	Parameters map[string]*DAGOutputParameter `json:"parameters,omitempty"`
	Artifacts  map[string]*DAGOutputArtifact  `json:"artifacts,omitempty"`
}

// DAGOutputParameter selects the task output that supplies a DAG output.
type DAGOutputParameter struct {
	ValueFromParameter *ParameterSelector `json:"valueFromParameter,omitempty"`
	ValueFromOneof     *OneofSelector     `json:"valueFromOneof,omitempty"`
}

// ParameterSelector names a subtask's output parameter.
type ParameterSelector struct {
	ProducerSubtask    string `json:"producerSubtask"`
	OutputParameterKey string `json:"outputParameterKey"`
}

// OneofSelector picks the first selector whose producer ran.
type OneofSelector struct {
	ParameterSelectors []*ParameterSelector `json:"parameterSelectors,omitempty"`
}

// DAGOutputArtifact selects the task output(s) that supply a DAG output.
type DAGOutputArtifact struct {
	ArtifactSelectors []*ArtifactSelector `json:"artifactSelectors,omitempty"`
}

// ArtifactSelector names a subtask's output artifact.
type ArtifactSelector struct {
	ProducerSubtask   string `json:"producerSubtask"`
	OutputArtifactKey string `json:"outputArtifactKey"`
}

// Task is one node of a DAG.
type Task struct {
	TaskInfo          TaskInfo           `json:"taskInfo"`
	Inputs            *TaskInputs        `json:"inputs,omitempty"`
	DependentTasks    []string           `json:"dependentTasks,omitempty"`
	CachingOptions    *CachingOptions    `json:"cachingOptions,omitempty"`
	ComponentRef      ComponentRef       `json:"componentRef"`
	TriggerPolicy     *TriggerPolicy     `json:"triggerPolicy,omitempty"`
	ParameterIterator *ParameterIterator `json:"parameterIterator,omitempty"`
	ArtifactIterator  *ArtifactIterator  `json:"artifactIterator,omitempty"`
	IteratorPolicy    *IteratorPolicy    `json:"iteratorPolicy,omitempty"`
	RetryPolicy       *RetryPolicy       `json:"retryPolicy,omitempty"`
}

// TaskInfo carries the task's display name.
type TaskInfo struct {
	Name string `json:"name,omitempty"`
}

// ComponentRef names the component a task instantiates.
type ComponentRef struct {
	Name string `json:"name"`
}

// TaskInputs binds a task's inputs.
type TaskInputs struct {
	Parameters map[string]*InputParameter `json:"parameters,omitempty"`
	Artifacts  map[string]*InputArtifact  `json:"artifacts,omitempty"`
}

// InputParameter is exactly one source of a parameter value.
type InputParameter struct {
	ComponentInputParameter     string               `json:"componentInputParameter,omitempty"`
	TaskOutputParameter         *TaskOutputParameter `json:"taskOutputParameter,omitempty"`
	RuntimeValue                *RuntimeValue        `json:"runtimeValue,omitempty"`
	TaskFinalStatus             *TaskFinalStatus     `json:"taskFinalStatus,omitempty"`
	ParameterExpressionSelector string               `json:"parameterExpressionSelector,omitempty"`
}

// TaskOutputParameter refers to a sibling task's output parameter.
type TaskOutputParameter struct {
	ProducerTask       string `json:"producerTask"`
	OutputParameterKey string `json:"outputParameterKey"`
}

// RuntimeValue is a constant, possibly embedding placeholders.
type RuntimeValue struct {
	Constant any `json:"constant"`
}

// TaskFinalStatus asks for the final status of a producer task.
type TaskFinalStatus struct {
	ProducerTask string `json:"producerTask"`
}

// InputArtifact is exactly one source of an artifact.
type InputArtifact struct {
	TaskOutputArtifact     *TaskOutputArtifact `json:"taskOutputArtifact,omitempty"`
	ComponentInputArtifact string              `json:"componentInputArtifact,omitempty"`
}

// TaskOutputArtifact refers to a sibling task's output artifact.
type TaskOutputArtifact struct {
	ProducerTask      string `json:"producerTask"`
	OutputArtifactKey string `json:"outputArtifactKey"`
}

// CachingOptions controls result reuse. KFP writes a disabled cache as {}.
type CachingOptions struct {
	EnableCache bool   `json:"enableCache,omitempty"`
	CacheKey    string `json:"cacheKey,omitempty"`
}

// TriggerPolicy decides whether a task runs.
type TriggerPolicy struct {
	Condition string `json:"condition,omitempty"`
	Strategy  string `json:"strategy,omitempty"`
}

// Trigger strategies.
const (
	StrategyAllUpstreamSucceeded = "ALL_UPSTREAM_TASKS_SUCCEEDED"
	StrategyAllUpstreamCompleted = "ALL_UPSTREAM_TASKS_COMPLETED"
)

// ParameterIterator fans a task out over the items of a list parameter.
type ParameterIterator struct {
	Items     ParameterIteratorItems `json:"items"`
	ItemInput string                 `json:"itemInput"`
}

// ParameterIteratorItems is the list: raw JSON or an input parameter.
type ParameterIteratorItems struct {
	Raw            string `json:"raw,omitempty"`
	InputParameter string `json:"inputParameter,omitempty"`
}

// ArtifactIterator fans a task out over the artifacts of a list input.
type ArtifactIterator struct {
	Items     ArtifactIteratorItems `json:"items"`
	ItemInput string                `json:"itemInput"`
}

// ArtifactIteratorItems names the artifact-list input.
type ArtifactIteratorItems struct {
	InputArtifact string `json:"inputArtifact,omitempty"`
}

// IteratorPolicy bounds loop concurrency.
type IteratorPolicy struct {
	ParallelismLimit int `json:"parallelismLimit,omitempty"`
}

// RetryPolicy says how often and how patiently to retry a failed task.
type RetryPolicy struct {
	MaxRetryCount      int     `json:"maxRetryCount,omitempty"`
	BackoffDuration    string  `json:"backoffDuration,omitempty"`
	BackoffFactor      float64 `json:"backoffFactor,omitempty"`
	BackoffMaxDuration string  `json:"backoffMaxDuration,omitempty"`
}

// Executor is how a leaf component runs.
type Executor struct {
	Container *Container `json:"container,omitempty"`
	Importer  *Importer  `json:"importer,omitempty"`
}

// Container is a command to run (in an image, on a cluster).
type Container struct {
	Image     string     `json:"image"`
	Command   []string   `json:"command,omitempty"`
	Args      []string   `json:"args,omitempty"`
	Env       []EnvVar   `json:"env,omitempty"`
	Resources *Resources `json:"resources,omitempty"`
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// Resources requests compute. Locally it is recorded, not enforced.
type Resources struct {
	CPULimit              float64      `json:"cpuLimit,omitempty"`
	MemoryLimit           float64      `json:"memoryLimit,omitempty"`
	CPURequest            float64      `json:"cpuRequest,omitempty"`
	MemoryRequest         float64      `json:"memoryRequest,omitempty"`
	ResourceCPULimit      string       `json:"resourceCpuLimit,omitempty"`
	ResourceMemoryLimit   string       `json:"resourceMemoryLimit,omitempty"`
	ResourceCPURequest    string       `json:"resourceCpuRequest,omitempty"`
	ResourceMemoryRequest string       `json:"resourceMemoryRequest,omitempty"`
	Accelerator           *Accelerator `json:"accelerator,omitempty"`
}

// Accelerator requests GPUs or similar devices.
type Accelerator struct {
	Type          string `json:"type,omitempty"`
	Count         int    `json:"count,omitempty"`
	ResourceType  string `json:"resourceType,omitempty"`
	ResourceCount string `json:"resourceCount,omitempty"`
}

// Importer brings an existing artifact into the pipeline.
type Importer struct {
	ArtifactURI ImporterURI    `json:"artifactUri"`
	TypeSchema  ArtifactType   `json:"typeSchema"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Reimport    bool           `json:"reimport,omitempty"`
}

// ImporterURI is a constant URI or the name of a runtime parameter.
type ImporterURI struct {
	Constant         any    `json:"constant,omitempty"`
	RuntimeParameter string `json:"runtimeParameter,omitempty"`
}
