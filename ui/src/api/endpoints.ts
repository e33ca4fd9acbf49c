import { api, apiFetch, ApiError, postJSON, query } from './client';
import type {
  Artifact,
  Experiment,
  Lineage,
  ListExperimentsResponse,
  ListPipelinesResponse,
  ListPipelineVersionsResponse,
  ListRecurringRunsResponse,
  ListRunsResponse,
  Pipeline,
  PipelineSpec,
  PipelineSpecDoc,
  PipelineVersion,
  Preview,
  RecurringRun,
  RecurringRunInput,
  Run,
  RunInput,
  RunGraph,
  RunSummary,
  TaskDetails,
} from './types';

export const KFP = '/apis/v2beta1';
export const WEIR = '/apis/weir/v1';

const enc = encodeURIComponent;

export interface Predicate {
  key: string;
  operation: 'EQUALS' | 'NOT_EQUALS' | 'GREATER_THAN' | 'GREATER_THAN_EQUALS' | 'LESS_THAN' | 'LESS_THAN_EQUALS' | 'IN' | 'IS_SUBSTRING';
  string_value?: string;
  string_values?: { values: string[] };
}

/** A KFP filter query value, or undefined when there is nothing to filter on. */
export function filterParam(predicates: Predicate[]): string | undefined {
  return predicates.length ? JSON.stringify({ predicates }) : undefined;
}

export interface ListParams {
  page_token?: string;
  page_size?: number;
  sort_by?: string;
  filter?: string;
}

// Pipelines.

export function listPipelines(p: ListParams = {}, signal?: AbortSignal) {
  return api<ListPipelinesResponse>(`${KFP}/pipelines${query({ ...p })}`, { signal });
}

export function getPipeline(id: string, signal?: AbortSignal) {
  return api<Pipeline>(`${KFP}/pipelines/${enc(id)}`, { signal });
}

export function listPipelineVersions(pipelineId: string, p: ListParams = {}, signal?: AbortSignal) {
  return api<ListPipelineVersionsResponse>(`${KFP}/pipelines/${enc(pipelineId)}/versions${query({ ...p })}`, { signal });
}

export function getPipelineVersion(pipelineId: string, versionId: string, signal?: AbortSignal) {
  return api<PipelineVersion>(`${KFP}/pipelines/${enc(pipelineId)}/versions/${enc(versionId)}`, { signal });
}

export function uploadPipeline(file: File, opts: { name?: string; description?: string } = {}) {
  const form = new FormData();
  form.append('uploadfile', file, file.name);
  return api<Pipeline>(`${KFP}/pipelines/upload${query({ name: opts.name, description: opts.description })}`, {
    method: 'POST',
    body: form,
  });
}

export function uploadPipelineVersion(pipelineId: string, file: File, name: string, description?: string) {
  const form = new FormData();
  form.append('uploadfile', file, file.name);
  return api<PipelineVersion>(`${KFP}/pipelines/upload_version${query({ pipelineid: pipelineId, name, description })}`, {
    method: 'POST',
    body: form,
  });
}

export function deletePipeline(id: string) {
  return api<object>(`${KFP}/pipelines/${enc(id)}?cascade=true`, { method: 'DELETE' });
}

/** The pipeline spec of a stored spec document (which may also carry a platform spec). */
export function specOf(doc: PipelineSpecDoc | undefined | null): PipelineSpec | null {
  if (!doc || typeof doc !== 'object') return null;
  if ('pipeline_spec' in doc && doc.pipeline_spec && !('root' in doc)) return doc.pipeline_spec;
  return doc as PipelineSpec;
}

// Experiments.

export function listExperiments(p: ListParams = {}, signal?: AbortSignal) {
  return api<ListExperimentsResponse>(`${KFP}/experiments${query({ ...p })}`, { signal });
}

export function getExperiment(id: string, signal?: AbortSignal) {
  return api<Experiment>(`${KFP}/experiments/${enc(id)}`, { signal });
}

export function createExperiment(display_name: string, description = '') {
  return postJSON<Experiment>(`${KFP}/experiments`, { display_name, description });
}

export function experimentAction(id: string, action: 'archive' | 'unarchive') {
  return api<object>(`${KFP}/experiments/${enc(id)}:${action}`, { method: 'POST' });
}

// Runs.

export function listRuns(p: ListParams & { experiment_id?: string } = {}, signal?: AbortSignal) {
  return api<ListRunsResponse>(`${KFP}/runs${query({ ...p })}`, { signal });
}

export function getRun(id: string, signal?: AbortSignal) {
  return api<Run>(`${KFP}/runs/${enc(id)}`, { signal });
}

export function createRun(input: RunInput) {
  return postJSON<Run>(`${KFP}/runs`, input);
}

export function runAction(id: string, action: 'terminate' | 'retry' | 'archive' | 'unarchive') {
  return api<object>(`${KFP}/runs/${enc(id)}:${action}`, { method: 'POST' });
}

export function deleteRun(id: string) {
  return api<object>(`${KFP}/runs/${enc(id)}`, { method: 'DELETE' });
}

/** The pipeline spec a run was made from (inline, or its pipeline version's). */
export async function runSpec(run: Run, signal?: AbortSignal): Promise<PipelineSpec | null> {
  const inline = specOf(run.pipeline_spec);
  if (inline) return inline;
  const ref = run.pipeline_version_reference;
  if (ref?.pipeline_id && ref.pipeline_version_id) {
    try {
      const v = await getPipelineVersion(ref.pipeline_id, ref.pipeline_version_id, signal);
      return specOf(v.pipeline_spec);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null; // the version was deleted
      throw err;
    }
  }
  return null;
}

// Recurring runs.

export function listRecurringRuns(p: ListParams = {}, signal?: AbortSignal) {
  return api<ListRecurringRunsResponse>(`${KFP}/recurringruns${query({ ...p })}`, { signal });
}

export function createRecurringRun(input: RecurringRunInput) {
  return postJSON<RecurringRun>(`${KFP}/recurringruns`, input);
}

export function recurringRunAction(id: string, action: 'enable' | 'disable') {
  return api<object>(`${KFP}/recurringruns/${enc(id)}:${action}`, { method: 'POST' });
}

export function deleteRecurringRun(id: string) {
  return api<object>(`${KFP}/recurringruns/${enc(id)}`, { method: 'DELETE' });
}

// weir: runs, logs, artifacts.

export function getRunSummary(id: string, signal?: AbortSignal) {
  return api<RunSummary>(`${WEIR}/runs/${enc(id)}`, { signal });
}

export function runGraphURL(id: string) {
  return `${WEIR}/runs/${enc(id)}?view=graph`;
}

/** A run as its page draws it: brief tasks, the KFP run and the spec, in one request. */
export function getRunGraph(id: string, signal?: AbortSignal) {
  return api<RunGraph>(runGraphURL(id), { signal });
}

/** The full summary of some tasks of a run, with their times. */
export function getTaskDetails(id: string, paths: string[], signal?: AbortSignal) {
  const q = paths.map((p) => `task=${enc(p)}`).join('&');
  return api<TaskDetails>(`${WEIR}/runs/${enc(id)}?${q}`, { signal });
}

/** The URL of a task's log; the task path's slashes stay path separators. */
export function logsURL(runId: string, taskPath: string, opts: { attempt?: number; follow?: boolean } = {}) {
  const task = taskPath.split('/').map(enc).join('/');
  return `${WEIR}/runs/${enc(runId)}/tasks/${task}/logs${query({ attempt: opts.attempt, follow: opts.follow ? 'true' : undefined })}`;
}

export function getArtifact(id: string, signal?: AbortSignal) {
  return api<Artifact>(`${WEIR}/artifacts/${enc(id)}`, { signal });
}

export function getPreview(id: string, signal?: AbortSignal) {
  return api<Preview>(`${WEIR}/artifacts/${enc(id)}/preview`, { signal });
}

export function getLineage(id: string, signal?: AbortSignal) {
  return api<Lineage>(`${WEIR}/artifacts/${enc(id)}/lineage`, { signal });
}

export function contentURL(id: string) {
  return `${WEIR}/artifacts/${enc(id)}/content`;
}

/** Downloads an artifact with the bearer token (a plain link cannot send it). */
export async function downloadArtifact(id: string, fallbackName: string): Promise<void> {
  const resp = await apiFetch(contentURL(id));
  if (!resp.ok) {
    const text = await resp.text();
    let msg = text;
    try {
      msg = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // plain text
    }
    throw new ApiError(msg || `${resp.status}`, resp.status);
  }
  const blob = await resp.blob();
  const cd = resp.headers.get('Content-Disposition') ?? '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  const name = m ? decodeURIComponent(m[1]) : fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
