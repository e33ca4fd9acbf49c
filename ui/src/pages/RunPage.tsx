import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, errorMessage } from '../api/client';
import { getRun, getRunSummary, runAction, runSpec, WEIR, deleteRun } from '../api/endpoints';
import type { Phase, PipelineSpec, Run, RunEvent, RunSummary, TaskDetail, TaskEvent } from '../api/types';
import { ActionButton, ErrorBanner, KeyValue, Loading, StateBadge } from '../components/common';
import { isTerminal, TaskPanel } from '../components/TaskPanel';
import { FlowGraph } from '../graph/FlowGraph';
import { buildModel, type RunTaskRef } from '../graph/model';
import { RunStore } from '../graph/runStore';
import { useGraphView } from '../graph/useView';
import { between, formatDuration, formatTime, formatValue } from '../lib/format';
import { useNames } from '../lib/lookups';
import { openEventStream } from '../lib/sse';
import { throttle, useAsync } from '../lib/useAsync';
import { Link, navigate, setQuery, useLocation, useTitle } from '../router';

interface SummaryMeta {
  state: Phase;
  error: string;
  duration_ms: number;
  finished_at?: string;
  pipeline: string;
  name: string;
  count: number;
}

function metaOf(s: RunSummary): SummaryMeta {
  return { state: s.state, error: s.error, duration_ms: s.duration_ms, finished_at: s.finished_at, pipeline: s.pipeline, name: s.name, count: s.tasks.length };
}

function TaskFinder({ tasks, onFind }: { tasks: () => RunTaskRef[]; onFind: (path: string) => void }) {
  const [text, setText] = useState('');
  const [miss, setMiss] = useState(false);
  return (
    <form
      className="finder"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        const t = text.trim();
        if (!t) return;
        const all = tasks();
        const hit = all.find((x) => x.name === t) ?? all.find((x) => x.name.endsWith(`/${t}`)) ?? all.find((x) => x.name.includes(t));
        setMiss(!hit);
        if (hit) onFind(hit.name);
      }}
    >
      <label>
        <span className="sr-only">Find a task by path</span>
        <input type="search" placeholder="Find task (path or name)…" value={text} onChange={(e) => setText(e.target.value)} aria-invalid={miss || undefined} data-testid="task-find" />
      </label>
      {miss && <span className="muted small">no such task</span>}
    </form>
  );
}

export function RunPage({ id }: { id: string }) {
  const loc = useLocation();
  const selected = loc.query.get('task') ?? undefined;
  const names = useNames();
  const store = useMemo(() => new RunStore(), []);
  const run = useAsync((s) => getRun(id, s), [id]);
  const [spec, setSpec] = useState<PipelineSpec | null | undefined>(undefined);
  const [specError, setSpecError] = useState<unknown>(undefined);
  const [meta, setMeta] = useState<SummaryMeta | null>(null);
  const [summaryError, setSummaryError] = useState<unknown>(undefined);
  const [structure, setStructure] = useState(0);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [details, setDetails] = useState<Map<string, TaskDetail> | null>(null);
  const tasksRef = useRef<RunTaskRef[]>([]);
  const refetchRef = useRef<() => void>(() => {});
  useTitle(meta?.name ?? run.data?.display_name ?? 'Run');

  // The spec gives the graph its edges and the tasks not started yet.
  const specFor = run.data?.pipeline_version_reference?.pipeline_version_id ?? (run.data ? 'inline' : '');
  useEffect(() => {
    if (!run.data) return;
    const ctrl = new AbortController();
    runSpec(run.data, ctrl.signal)
      .then((s) => setSpec(s))
      .catch((e) => {
        if (!ctrl.signal.aborted) {
          setSpecError(e);
          setSpec(null);
        }
      });
    return () => ctrl.abort();
  }, [specFor]);

  // The summary, fetched again (throttled) when events say it changed.
  useEffect(() => {
    const ctrl = new AbortController();
    let inflight = false;
    let again = false;
    let lastDuration = 0;
    const fetchSummary = async () => {
      if (inflight) {
        again = true;
        return;
      }
      inflight = true;
      const t0 = performance.now();
      try {
        const s = await getRunSummary(id, ctrl.signal);
        const changed = store.applySummary(s);
        taskCount = s.tasks.length;
        tasksRef.current = s.tasks.map((t) => ({ name: t.name, kind: t.kind }));
        setMeta(metaOf(s));
        setSummaryError(undefined);
        if (changed) setStructure((v) => v + 1);
      } catch (e) {
        if (!ctrl.signal.aborted) setSummaryError(e);
      } finally {
        lastDuration = performance.now() - t0;
        inflight = false;
        if (again && !ctrl.signal.aborted) {
          again = false;
          refetch();
        }
      }
    };
    // At most one summary at a time, spaced by how long the last one took
    // and by the run's size: a run of 20,000 tasks is fetched every ~10 s
    // at most (its states meanwhile come from the events).
    let taskCount = 0;
    const refetch = throttle(() => void fetchSummary(), () => Math.max(1000, 8 * lastDuration, taskCount / 2));
    refetchRef.current = refetch;
    void fetchSummary();
    const stop = openEventStream(`${WEIR}/events?run=${encodeURIComponent(id)}`, {
      onOpen: () => {
        setLive('live');
        refetch();
      },
      onMessage: (m) => {
        try {
          if (m.event === 'task') {
            const ev = JSON.parse(m.data) as TaskEvent;
            // A new task changes the graph: fetch the summary (throttled).
            // Known tasks change state from the event alone; an open task
            // panel asks for the summary when its data is older (onStale).
            if (!store.applyTaskEvent(ev)) refetch();
          } else if (m.event === 'run') {
            const ev = JSON.parse(m.data) as RunEvent;
            setMeta((x) => (x ? { ...x, state: ev.state, error: ev.error ?? x.error, finished_at: ev.finished_at ?? x.finished_at } : x));
            refetch();
            if (isTerminal(ev.state)) run.reload();
          } else if (m.event === 'resync') {
            refetch();
          }
        } catch {
          refetch();
        }
      },
      onError: (e) => {
        setLive('reconnecting');
        if (e instanceof ApiError && e.status === 404) setSummaryError(e);
      },
    });
    return () => {
      stop();
      refetch.cancel();
      ctrl.abort();
    };
  }, [id, store]);

  // Wait for the spec (null when it cannot be had): a graph drawn without
  // it would change shape when it comes.
  const model = useMemo(
    () => (spec === undefined ? null : buildModel(spec, tasksRef.current)),
    [spec, structure],
  );
  const view = useGraphView(model);

  // KFP task details carry the task timings: fetched when a task panel
  // opens, and again when the run changes state (events give the timings
  // of what changes meanwhile).
  const panelOpen = selected !== undefined;
  useEffect(() => {
    if (!panelOpen) return;
    const ctrl = new AbortController();
    getRun(id, ctrl.signal)
      .then((r) => setDetails(new Map((r.run_details?.task_details ?? []).map((d) => [d.display_name, d]))))
      .catch(() => {});
    return () => ctrl.abort();
  }, [id, panelOpen, meta?.state]);

  // A task named in the URL is drawn: expand its groups.
  const revealed = useRef<string | undefined>(undefined);
  const [focus, setFocus] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (selected && model && revealed.current === undefined) {
      revealed.current = selected;
      view.reveal(selected);
      setFocus(selected);
    }
  }, [selected, model, view]);

  const select = useCallback((path: string | undefined) => setQuery({ task: path, tab: path ? new URLSearchParams(window.location.search).get('tab') : undefined }), []);
  const onStale = useCallback(() => refetchRef.current(), []);

  const r: Run | undefined = run.data;
  const state = meta?.state;
  const kfpState = r?.state;
  const ended = isTerminal(state);
  const canRetry = state === 'failed' || state === 'canceled';
  const pid = r?.pipeline_version_reference?.pipeline_id;
  const vid = r?.pipeline_version_reference?.pipeline_version_id;

  if (run.error && !r) {
    return (
      <div className="page">
        <ErrorBanner error={run.error} onRetry={run.reload} title="Cannot load the run" />
        <Link to="/runs">Back to the runs</Link>
      </div>
    );
  }

  return (
    <div className="page run-page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link>
        {r && (
          <>
            {' / '}
            <Link to={`/runs?experiment=${encodeURIComponent(r.experiment_id)}`}>{names.experiments?.get(r.experiment_id) ?? 'experiment'}</Link>
          </>
        )}
        {' / '}
        <span>{meta?.name ?? r?.display_name ?? id}</span>
      </nav>
      <div className="page-head">
        <div className="title-row">
          <h1>{meta?.name ?? r?.display_name ?? 'Run'}</h1>
          {kfpState === 'CANCELING' && !ended ? <StateBadge state="CANCELING" /> : <StateBadge state={state ?? kfpState} />}
          <span className={`live live-${live}`} title={live === 'live' ? 'Live updates' : 'Reconnecting to live updates'}>
            {ended ? '' : live === 'live' ? '● live' : live === 'reconnecting' ? '○ reconnecting' : ''}
          </span>
        </div>
        <div className="row-actions">
          <ActionButton
            className="btn"
            disabled={!state || ended || kfpState === 'CANCELING'}
            confirm="Terminate this run? Running tasks are stopped."
            onAction={async () => {
              await runAction(id, 'terminate');
              run.reload();
            }}
            testid="terminate-run"
          >
            Terminate
          </ActionButton>
          <ActionButton
            className="btn"
            disabled={!canRetry}
            onAction={async () => {
              await runAction(id, 'retry');
              run.reload();
              refetchRef.current();
            }}
            testid="retry-run"
            title="Run the failed and canceled tasks again"
          >
            Retry
          </ActionButton>
          <Link className="btn" to={`/runs/new?clone=${encodeURIComponent(id)}`} data-testid="clone-run">
            Clone
          </Link>
          {r?.storage_state === 'ARCHIVED' ? (
            <ActionButton className="btn" onAction={async () => { await runAction(id, 'unarchive'); run.reload(); }} testid="unarchive-run">
              Restore
            </ActionButton>
          ) : (
            <ActionButton className="btn" disabled={!ended} onAction={async () => { await runAction(id, 'archive'); run.reload(); }} testid="archive-run">
              Archive
            </ActionButton>
          )}
          <ActionButton
            className="btn btn-danger"
            disabled={!ended}
            confirm="Delete this run and its records?"
            onAction={async () => {
              await deleteRun(id);
              navigate('/runs');
            }}
            testid="delete-run"
          >
            Delete
          </ActionButton>
        </div>
      </div>
      {(meta?.error || r?.error?.message) && state !== 'succeeded' && (
        <div className="banner banner-error" role="alert" data-testid="run-error">
          {meta?.error || r?.error?.message}
        </div>
      )}
      <ErrorBanner error={summaryError} title="Run summary" />
      <ErrorBanner error={specError} title="Pipeline spec" />
      <details className="run-info">
        <summary>
          {meta?.pipeline ?? ''} · created {formatTime(r?.created_at)}
          {meta?.finished_at ? ` · took ${formatDuration(meta.duration_ms || between(r?.created_at, meta.finished_at))}` : ''}
          {meta ? ` · ${meta.count} task${meta.count === 1 ? '' : 's'}` : ''}
        </summary>
        <div className="run-info-body">
          <KeyValue
            rows={[
              ['Run id', <code key="id">{id}</code>],
              ['Pipeline', pid ? <Link key="p" to={`/pipelines/${encodeURIComponent(pid)}${vid ? `?version=${encodeURIComponent(vid)}` : ''}`}>{names.pipelines?.get(pid) ?? meta?.pipeline ?? pid}</Link> : meta?.pipeline],
              ['Experiment', r ? <Link key="e" to={`/runs?experiment=${encodeURIComponent(r.experiment_id)}`}>{names.experiments?.get(r.experiment_id) ?? r.experiment_id}</Link> : undefined],
              ['Created', formatTime(r?.created_at)],
              ['Finished', formatTime(meta?.finished_at ?? r?.finished_at)],
              ['Pipeline root', r?.runtime_config.pipeline_root ? <code key="root">{r.runtime_config.pipeline_root}</code> : undefined],
              ['Recurring run', r?.recurring_run_id ? <Link key="rr" to="/recurring">{r.recurring_run_id}</Link> : undefined],
              ['Description', r?.description],
            ]}
          />
          {r && Object.keys(r.runtime_config.parameters ?? {}).length > 0 && (
            <table className="table compact params-used" data-testid="run-parameters">
              <thead>
                <tr>
                  <th>Parameter</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(r.runtime_config.parameters).map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">
                      <code>{k}</code>
                    </th>
                    <td>
                      <code className="value">{formatValue(v)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </details>
      <div className={`run-body${selected ? ' with-panel' : ''}`}>
        <section className="graph-area" aria-label="Run graph">
          <div className="graph-toolbar">
            <TaskFinder
              tasks={() => tasksRef.current}
              onFind={(p) => {
                view.reveal(p);
                select(p);
                setFocus(p);
              }}
            />
            <Legend />
          </div>
          {model ? (
            model.root.children.length ? (
              <FlowGraph
                model={model}
                store={store}
                view={view.view}
                onToggle={view.toggle}
                onShowIteration={view.showIteration}
                selected={selected}
                onSelect={select}
                fitKey={view.fitKey}
                focus={focus}
              />
            ) : (
              <p className="muted pad">No tasks yet.</p>
            )
          ) : (
            <Loading label="Loading the graph…" />
          )}
        </section>
        {selected && (
          <TaskPanel
            runId={id}
            path={selected}
            store={store}
            model={model}
            detail={details?.get(selected)}
            onClose={() => select(undefined)}
            onStale={onStale}
          />
        )}
      </div>
      {!meta && !summaryError && <Loading />}
      {summaryError !== undefined && meta === null && <p className="muted">{errorMessage(summaryError)}</p>}
    </div>
  );
}

function Legend() {
  const states: Phase[] = ['pending', 'running', 'succeeded', 'failed', 'cached', 'skipped', 'canceled'];
  return (
    <ul className="legend" aria-label="Task states">
      {states.map((s) => (
        <li key={s}>
          <span className={`wf-dot state-${s}`} aria-hidden /> {s}
        </li>
      ))}
      <li>
        <span className="wf-dot state-none" aria-hidden /> not started
      </li>
    </ul>
  );
}
