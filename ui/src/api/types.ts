// Types of the JSON that weir server sends (internal/server/openapi.yaml).

export interface Status {
  code: number;
  message: string;
  details?: unknown[];
}

export interface Pipeline {
  pipeline_id: string;
  display_name: string;
  name: string;
  description: string;
  created_at?: string;
  namespace?: string;
}

export interface PipelineVersion {
  pipeline_id: string;
  pipeline_version_id: string;
  display_name: string;
  name: string;
  description: string;
  created_at?: string;
  pipeline_spec?: PipelineSpecDoc;
}

export interface ListPipelinesResponse {
  pipelines?: Pipeline[];
  total_size: number;
  next_page_token: string;
}

export interface ListPipelineVersionsResponse {
  pipeline_versions?: PipelineVersion[];
  total_size: number;
  next_page_token: string;
}

export type StorageState = 'AVAILABLE' | 'ARCHIVED';

export interface Experiment {
  experiment_id: string;
  display_name: string;
  description: string;
  created_at?: string;
  namespace?: string;
  storage_state: StorageState;
  last_run_created_at?: string;
}

export interface ListExperimentsResponse {
  experiments?: Experiment[];
  total_size: number;
  next_page_token: string;
}

/** KFP runtime state of a run. */
export type RunState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'CANCELED' | 'CANCELING';

export const RUN_STATES: RunState[] = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELED', 'CANCELING'];

export interface PipelineVersionReference {
  pipeline_id?: string;
  pipeline_version_id?: string;
}

export interface RuntimeConfig {
  parameters: Record<string, unknown>;
  pipeline_root: string;
}

export interface TaskDetail {
  run_id: string;
  task_id: string;
  display_name: string;
  create_time?: string;
  start_time?: string;
  end_time?: string;
  state: string;
  error?: Status;
  parent_task_id?: string;
  child_tasks?: { task_id: string }[];
}

export interface Run {
  experiment_id: string;
  run_id: string;
  display_name: string;
  storage_state: StorageState;
  description: string;
  pipeline_version_id?: string;
  pipeline_spec?: PipelineSpecDoc;
  pipeline_version_reference?: PipelineVersionReference;
  runtime_config: RuntimeConfig;
  service_account: string;
  created_at?: string;
  scheduled_at?: string;
  finished_at?: string;
  state: RunState;
  error?: Status;
  run_details?: {
    pipeline_context_id: string;
    pipeline_run_context_id: string;
    task_details: TaskDetail[];
  };
  recurring_run_id?: string;
}

export interface ListRunsResponse {
  runs?: Run[];
  total_size: number;
  next_page_token: string;
}

export interface RunInput {
  display_name: string;
  description?: string;
  experiment_id?: string;
  pipeline_version_reference?: PipelineVersionReference;
  pipeline_spec?: PipelineSpecDoc;
  runtime_config?: { parameters?: Record<string, unknown>; pipeline_root?: string };
}

export interface Trigger {
  cron_schedule?: { cron: string; start_time?: string; end_time?: string };
  periodic_schedule?: { interval_second: string | number; start_time?: string; end_time?: string };
}

export interface RecurringRun {
  recurring_run_id: string;
  display_name: string;
  description: string;
  pipeline_version_reference?: PipelineVersionReference;
  pipeline_spec?: PipelineSpecDoc;
  runtime_config: RuntimeConfig;
  service_account: string;
  max_concurrency: string;
  trigger: Trigger;
  mode: 'ENABLE' | 'DISABLE';
  created_at?: string;
  updated_at?: string;
  status: 'ENABLED' | 'DISABLED';
  no_catchup: boolean;
  namespace?: string;
  experiment_id: string;
}

export interface RecurringRunInput extends RunInput {
  trigger: Trigger;
  max_concurrency?: number;
  mode?: 'ENABLE' | 'DISABLE';
  no_catchup?: boolean;
}

export interface ListRecurringRunsResponse {
  recurringRuns?: RecurringRun[];
  total_size: number;
  next_page_token: string;
}

// weir's own objects.

/** weir's lifecycle state of a run, task or attempt. */
export type Phase = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cached' | 'canceled';

export const PHASES: Phase[] = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cached', 'canceled'];

export type TaskKind = 'container' | 'importer' | 'dag' | 'loop' | 'iteration';

export interface ArtifactRef {
  artifact_id: string;
  uri: string;
  path: string;
  type: string;
  metadata: Record<string, unknown>;
  size: number;
}

export interface TaskIO {
  parameters: Record<string, unknown>;
  artifacts: Record<string, ArtifactRef[]>;
}

export interface AttemptSummary {
  number: number;
  state: Phase;
  exit_code?: number;
  error?: string;
  duration_ms: number;
  log: string;
}

export interface TaskSummary {
  name: string;
  kind: TaskKind;
  state: Phase;
  attempts: number;
  exit_code?: number;
  error: string;
  duration_ms: number;
  inputs: TaskIO;
  outputs: TaskIO;
  log?: string;
  cached_from: string;
  attempt_history?: AttemptSummary[];
}

export interface RunSummary {
  run_id: string;
  pipeline: string;
  name: string;
  state: Phase;
  error: string;
  created_at: string;
  finished_at?: string;
  duration_ms: number;
  parameters: Record<string, unknown>;
  pipeline_root: string;
  tasks: TaskSummary[];
}

/** A task as a run's graph needs it (GET /apis/weir/v1/runs/{id}?view=graph). */
export interface TaskBrief {
  name: string;
  kind: TaskKind;
  state: Phase;
  attempts: number;
  error?: string;
}

/**
 * What a run page is drawn from, in one request: the summary's run fields,
 * every task in brief, the KFP run (without run_details) and the spec.
 */
export interface RunGraph extends Omit<RunSummary, 'tasks'> {
  tasks: TaskBrief[];
  run: Run;
  pipeline_spec?: PipelineSpecDoc;
}

/** A task of the summary with its times (GET ...?task=PATH). */
export interface TaskDetailed extends TaskSummary {
  created_at?: string;
  started_at?: string;
  finished_at?: string;
}

export interface TaskDetails extends Omit<RunSummary, 'tasks'> {
  tasks: TaskDetailed[];
}

export interface LineageTask {
  run_id: string;
  run_name: string;
  task: string;
  task_run_id: string;
  attempt?: number;
  attempt_id?: string;
  name: string;
  index: number;
  created_at?: string;
}

export interface Artifact {
  artifact_id: string;
  run_id: string;
  uri: string;
  path: string;
  type: string;
  schema_version: string;
  metadata: Record<string, unknown>;
  digest: string;
  size: number;
  created_at?: string;
  producer: LineageTask | null;
  consumers: LineageTask[];
  reused: LineageTask[];
}

export interface Lineage {
  artifact_id: string;
  producer: LineageTask | null;
  consumers: LineageTask[];
  reused: LineageTask[];
}

export type PreviewKind = 'metrics' | 'classification_metrics' | 'html' | 'markdown' | 'table' | 'json_lines' | 'text' | 'none';

export interface Preview {
  artifact_id: string;
  type: string;
  kind: PreviewKind;
  size: number;
  metrics?: Record<string, number>;
  confusion_matrix?: { labels: string[]; rows: unknown[][] };
  confidence_metrics?: unknown[];
  text?: string;
  truncated?: boolean;
  format?: 'csv' | 'tsv';
  columns?: string[];
  rows?: string[][];
  records?: unknown[];
  lines?: string[];
  note?: string;
}

export interface RunEvent {
  run_id: string;
  name: string;
  pipeline: string;
  state: Phase;
  error?: string;
  created_at?: string;
  started_at?: string;
  finished_at?: string;
}

export interface TaskEvent {
  run_id: string;
  task: string;
  task_run_id: string;
  kind: TaskKind;
  state: Phase;
  error?: string;
  created_at?: string;
  started_at?: string;
  finished_at?: string;
  attempt?: number;
  attempt_state?: Phase;
  exit_code?: number;
}

// Pipeline specs (KFP IR), only the parts the interface reads.

export interface ParameterSpec {
  parameterType?: string;
  /** Older specs. */
  type?: string;
  defaultValue?: unknown;
  isOptional?: boolean;
  description?: string;
}

export interface ArtifactSpec {
  artifactType?: { schemaTitle?: string; schemaVersion?: string };
  isArtifactList?: boolean;
  isOptional?: boolean;
  description?: string;
}

export interface InputDefinitions {
  parameters?: Record<string, ParameterSpec>;
  artifacts?: Record<string, ArtifactSpec>;
}

export interface SpecTask {
  componentRef?: { name?: string };
  dependentTasks?: string[];
  taskInfo?: { name?: string };
  triggerPolicy?: { condition?: string; strategy?: string };
  parameterIterator?: unknown;
  artifactIterator?: unknown;
  iteratorPolicy?: { parallelismLimit?: number };
  cachingOptions?: { enableCache?: boolean };
}

export interface ComponentSpec {
  dag?: { tasks?: Record<string, SpecTask> };
  executorLabel?: string;
  inputDefinitions?: InputDefinitions;
  outputDefinitions?: InputDefinitions;
}

export interface PipelineSpec {
  pipelineInfo?: { name?: string; description?: string; displayName?: string };
  root?: ComponentSpec;
  components?: Record<string, ComponentSpec>;
  deploymentSpec?: { executors?: Record<string, { importer?: unknown; container?: { image?: string } }> };
  schemaVersion?: string;
  sdkVersion?: string;
}

/** A spec as the server renders it: the pipeline spec, or both specs. */
export type PipelineSpecDoc = PipelineSpec | { pipeline_spec: PipelineSpec; platform_spec?: unknown };
