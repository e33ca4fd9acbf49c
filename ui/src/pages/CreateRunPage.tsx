import { useEffect, useMemo, useState } from 'react';
import { errorMessage } from '../api/client';
import {
  createExperiment,
  createRecurringRun,
  createRun,
  getRun,
  listExperiments,
  listPipelines,
  listPipelineVersions,
  specOf,
} from '../api/endpoints';
import type { PipelineSpec, RunInput, Trigger } from '../api/types';
import { ErrorBanner, Loading } from '../components/common';
import { ParamField } from '../components/ParamField';
import { formatTime } from '../lib/format';
import { checkParams, initialTexts, pipelineParams } from '../lib/params';
import { useAsync } from '../lib/useAsync';
import { Link, navigate, useLocation, useTitle } from '../router';

const NEW_EXPERIMENT = '__new__';

function stamp() {
  return formatTime(new Date().toISOString());
}

/** A cron expression's shape: 5 or 6 fields, or a descriptor. */
export function cronLooksValid(s: string): boolean {
  const t = s.trim();
  if (!t) return false;
  if (t.startsWith('@')) return /^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(t);
  const n = t.split(/\s+/).length;
  return n === 5 || n === 6;
}

export function CreateRunPage() {
  const loc = useLocation();
  const cloneId = loc.query.get('clone') ?? '';
  const [mode, setMode] = useState<'run' | 'recurring'>(loc.query.get('mode') === 'recurring' ? 'recurring' : 'run');
  useTitle(mode === 'recurring' ? 'New recurring run' : cloneId ? 'Clone run' : 'New run');

  const clone = useAsync(async (s) => (cloneId ? getRun(cloneId, s) : null), [cloneId]);
  const pipelines = useAsync(async (s) => (await listPipelines({ page_size: 1000, sort_by: 'display_name asc' }, s)).pipelines ?? [], []);
  const experiments = useAsync(async (s) => (await listExperiments({ page_size: 1000, sort_by: 'created_at desc' }, s)).experiments ?? [], []);

  const [pipelineId, setPipelineId] = useState(loc.query.get('pipeline') ?? '');
  const [versionId, setVersionId] = useState(loc.query.get('version') ?? '');
  const [experimentId, setExperimentId] = useState(loc.query.get('experiment') ?? '');
  const [newExperiment, setNewExperiment] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [touched, setTouched] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  // Recurring.
  const [triggerKind, setTriggerKind] = useState<'cron' | 'interval'>('cron');
  const [cron, setCron] = useState('0 0 * * *');
  const [interval, setIntervalValue] = useState('1');
  const [intervalUnit, setIntervalUnit] = useState(3600);
  const [maxConcurrency, setMaxConcurrency] = useState('1');
  const [catchup, setCatchup] = useState(true);
  const [enabled, setEnabled] = useState(true);

  // A clone takes its pipeline, version, experiment and name from the run.
  useEffect(() => {
    const r = clone.data;
    if (!r) return;
    setPipelineId(r.pipeline_version_reference?.pipeline_id ?? '');
    setVersionId(r.pipeline_version_reference?.pipeline_version_id ?? '');
    setExperimentId(r.experiment_id);
    setName(`Clone of ${r.display_name}`);
    setDescription(r.description);
  }, [clone.data]);

  const versions = useAsync(
    async (s) => (pipelineId ? (await listPipelineVersions(pipelineId, { page_size: 200, sort_by: 'created_at desc' }, s)).pipeline_versions ?? [] : []),
    [pipelineId],
  );
  const version = versions.data?.find((v) => v.pipeline_version_id === versionId) ?? (versionId ? undefined : versions.data?.[0]);
  const inlineSpec = clone.data && !clone.data.pipeline_version_reference ? specOf(clone.data.pipeline_spec) : null;
  const spec: PipelineSpec | null = inlineSpec ?? specOf(version?.pipeline_spec);
  const defs = useMemo(() => pipelineParams(spec), [spec]);
  const pipelineName = pipelines.data?.find((p) => p.pipeline_id === pipelineId)?.display_name ?? spec?.pipelineInfo?.name ?? 'run';

  // Prefill the parameters: the cloned run's values, else the defaults.
  const specKey = version?.pipeline_version_id ?? (inlineSpec ? 'inline' : '');
  useEffect(() => {
    if (!spec) return;
    const values = clone.data ? clone.data.runtime_config?.parameters : undefined;
    setTexts(initialTexts(defs, values));
  }, [specKey, clone.data]);

  // Pick the first experiment when none is chosen.
  useEffect(() => {
    // Without a choice the server uses (and makes) the experiment "Default".
    const def = experiments.data?.find((x) => x.display_name === 'Default');
    if (!experimentId && def) setExperimentId(def.experiment_id);
  }, [experiments.data, experimentId]);

  const check = checkParams(defs, texts);
  const runName = name.trim() || `${pipelineName} ${stamp()}`;
  const problems: string[] = [];
  if (!spec) problems.push('choose a pipeline and a version');
  if (experimentId === NEW_EXPERIMENT && !newExperiment.trim()) problems.push('name the new experiment');
  if (mode === 'recurring') {
    if (triggerKind === 'cron' && !cronLooksValid(cron)) problems.push('the cron expression needs 5 or 6 fields (or a descriptor such as @hourly)');
    if (triggerKind === 'interval' && !(Number(interval) > 0)) problems.push('the interval must be a positive number');
    const mc = Number(maxConcurrency);
    if (!Number.isInteger(mc) || mc < 1 || mc > 10) problems.push('max concurrency is an integer from 1 to 10');
  }

  const submit = async () => {
    setTouched(true);
    if (!check.valid || problems.length) return;
    setSubmitting(true);
    setSubmitError(null);
    try {
      let exp = experimentId;
      if (exp === NEW_EXPERIMENT) {
        exp = (await createExperiment(newExperiment.trim())).experiment_id;
        setExperimentId(exp);
        experiments.reload();
      }
      const base: RunInput = {
        display_name: runName,
        description: description.trim() || undefined,
        experiment_id: exp || undefined,
        runtime_config: { parameters: check.parameters },
      };
      if (inlineSpec) base.pipeline_spec = clone.data?.pipeline_spec;
      else base.pipeline_version_reference = { pipeline_id: pipelineId, pipeline_version_id: version?.pipeline_version_id };
      if (mode === 'run') {
        const r = await createRun(base);
        navigate(`/runs/${encodeURIComponent(r.run_id)}`);
      } else {
        const trigger: Trigger =
          triggerKind === 'cron'
            ? { cron_schedule: { cron: cron.trim() } }
            : { periodic_schedule: { interval_second: String(Math.round(Number(interval) * intervalUnit)) } };
        await createRecurringRun({
          ...base,
          trigger,
          max_concurrency: Number(maxConcurrency),
          mode: enabled ? 'ENABLE' : 'DISABLE',
          no_catchup: !catchup,
        });
        navigate('/recurring');
      }
    } catch (e) {
      setSubmitError(errorMessage(e));
    } finally {
      setSubmitting(false);
    }
  };

  if (clone.error) return <div className="page"><ErrorBanner error={clone.error} title="Cannot clone" /></div>;
  if (cloneId && !clone.data) return <div className="page"><Loading /></div>;

  return (
    <div className="page narrow">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link> / <span>{cloneId ? 'Clone' : 'New'}</span>
      </nav>
      <h1>{mode === 'recurring' ? 'New recurring run' : clone.data ? `Clone “${clone.data.display_name}”` : 'New run'}</h1>
      <form
        className="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        data-testid="run-form"
      >
        <fieldset className="card">
          <legend>Kind</legend>
          <div className="seg" role="radiogroup" aria-label="Kind of run">
            <label className={mode === 'run' ? 'active' : undefined}>
              <input type="radio" name="mode" checked={mode === 'run'} onChange={() => setMode('run')} /> One run
            </label>
            <label className={mode === 'recurring' ? 'active' : undefined}>
              <input type="radio" name="mode" checked={mode === 'recurring'} onChange={() => setMode('recurring')} data-testid="mode-recurring" /> Recurring run
            </label>
          </div>
        </fieldset>

        <fieldset className="card">
          <legend>Pipeline</legend>
          <ErrorBanner error={pipelines.error} onRetry={pipelines.reload} />
          {inlineSpec ? (
            <p>
              The run's own pipeline spec (<code>{inlineSpec.pipelineInfo?.name}</code>): it was submitted inline, not from a stored pipeline.
            </p>
          ) : (
            <div className="form-row">
              <label className="field">
                <span>Pipeline</span>
                <select
                  value={pipelineId}
                  onChange={(e) => {
                    setPipelineId(e.target.value);
                    setVersionId('');
                  }}
                  data-testid="pipeline-select"
                >
                  <option value="">Choose a pipeline…</option>
                  {pipelines.data?.map((p) => (
                    <option key={p.pipeline_id} value={p.pipeline_id}>
                      {p.display_name}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span>Version</span>
                <select value={version?.pipeline_version_id ?? ''} onChange={(e) => setVersionId(e.target.value)} disabled={!pipelineId} data-testid="version-select">
                  {versions.data?.map((v) => (
                    <option key={v.pipeline_version_id} value={v.pipeline_version_id}>
                      {v.display_name} ({formatTime(v.created_at)})
                    </option>
                  ))}
                </select>
              </label>
            </div>
          )}
          {versions.loading && pipelineId && <Loading label="Loading versions…" />}
          <ErrorBanner error={versions.error} />
        </fieldset>

        <fieldset className="card">
          <legend>Run</legend>
          <div className="form-row">
            <label className="field">
              <span>Name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} placeholder={runName} maxLength={128} data-testid="run-name" />
            </label>
            <label className="field">
              <span>Experiment</span>
              <select value={experimentId} onChange={(e) => setExperimentId(e.target.value)} data-testid="experiment-select">
                {!experiments.data?.some((x) => x.display_name === 'Default') && <option value="">Default</option>}
                {experiments.data?.map((x) => (
                  <option key={x.experiment_id} value={x.experiment_id}>
                    {x.display_name}
                  </option>
                ))}
                <option value={NEW_EXPERIMENT}>New experiment…</option>
              </select>
            </label>
            {experimentId === NEW_EXPERIMENT && (
              <label className="field">
                <span>New experiment name</span>
                <input value={newExperiment} onChange={(e) => setNewExperiment(e.target.value)} maxLength={128} data-testid="new-experiment" />
              </label>
            )}
          </div>
          <label className="field">
            <span>Description</span>
            <input value={description} onChange={(e) => setDescription(e.target.value)} />
          </label>
        </fieldset>

        {mode === 'recurring' && (
          <fieldset className="card">
            <legend>Schedule</legend>
            <div className="seg" role="radiogroup" aria-label="Trigger">
              <label className={triggerKind === 'cron' ? 'active' : undefined}>
                <input type="radio" name="trigger" checked={triggerKind === 'cron'} onChange={() => setTriggerKind('cron')} /> Cron
              </label>
              <label className={triggerKind === 'interval' ? 'active' : undefined}>
                <input type="radio" name="trigger" checked={triggerKind === 'interval'} onChange={() => setTriggerKind('interval')} data-testid="trigger-interval" /> Interval
              </label>
            </div>
            {triggerKind === 'cron' ? (
              <label className="field">
                <span>Cron expression</span>
                <input className="mono" value={cron} onChange={(e) => setCron(e.target.value)} data-testid="cron" />
                <span className="hint">minute hour day-of-month month day-of-week, with an optional leading seconds field; or @hourly, @daily, @every 10m</span>
              </label>
            ) : (
              <div className="form-row">
                <label className="field">
                  <span>Every</span>
                  <input type="number" min={1} value={interval} onChange={(e) => setIntervalValue(e.target.value)} data-testid="interval" />
                </label>
                <label className="field">
                  <span>Unit</span>
                  <select value={intervalUnit} onChange={(e) => setIntervalUnit(Number(e.target.value))}>
                    <option value={1}>seconds</option>
                    <option value={60}>minutes</option>
                    <option value={3600}>hours</option>
                    <option value={86400}>days</option>
                  </select>
                </label>
              </div>
            )}
            <div className="form-row">
              <label className="field">
                <span>Max concurrent runs</span>
                <input type="number" min={1} max={10} value={maxConcurrency} onChange={(e) => setMaxConcurrency(e.target.value)} />
              </label>
              <label className="inline">
                <input type="checkbox" checked={catchup} onChange={(e) => setCatchup(e.target.checked)} /> Catch up missed runs
              </label>
              <label className="inline">
                <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
              </label>
            </div>
          </fieldset>
        )}

        <fieldset className="card">
          <legend>Parameters</legend>
          {!spec ? (
            <p className="muted">Choose a pipeline version to see its parameters.</p>
          ) : defs.length === 0 ? (
            <p className="muted">This pipeline takes no parameters.</p>
          ) : (
            <div className="params">
              {defs.map((d) => (
                <ParamField
                  key={d.name}
                  def={d}
                  text={texts[d.name] ?? ''}
                  error={touched || (texts[d.name] ?? '') !== '' ? check.errors[d.name] : undefined}
                  onChange={(t) => setTexts((x) => ({ ...x, [d.name]: t }))}
                />
              ))}
            </div>
          )}
        </fieldset>

        {touched && (problems.length > 0 || !check.valid) && (
          <div className="banner banner-error" role="alert" data-testid="error-banner">
            Fix before starting: {[...problems, ...Object.entries(check.errors).map(([k, v]) => `${k}: ${v}`)].join('; ')}
          </div>
        )}
        {submitError && (
          <div className="banner banner-error" role="alert" data-testid="error-banner">
            The server refused the run: {submitError}
          </div>
        )}
        <div className="row-actions">
          <Link className="btn" to="/runs">
            Cancel
          </Link>
          <button type="submit" className="btn btn-primary" disabled={submitting} data-testid="start-run">
            {submitting ? 'Starting…' : mode === 'recurring' ? 'Create recurring run' : 'Start run'}
          </button>
        </div>
      </form>
    </div>
  );
}
