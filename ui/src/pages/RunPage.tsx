import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { deleteRun, getRunGraph, runAction, runSpec, specOf, WEIR } from '../api/endpoints';
import type { Phase, PipelineSpec, Run, RunEvent, RunGraph, TaskBrief, TaskEvent } from '../api/types';
import { ActionButton, ErrorBanner, KeyValue, Loading, StateBadge } from '../components/common';
import { isTerminal, TaskPanel } from '../components/TaskPanel';
import { FlowGraph } from '../graph/FlowGraph';
import { baseName, buildModel, type RunTaskRef } from '../graph/model';
import { RunStore } from '../graph/runStore';
import { useGraphView } from '../graph/useView';
import { between, formatDuration, formatTime, formatValue } from '../lib/format';
import { failedTask } from '../lib/failure';
import { useNames } from '../lib/lookups';
import { takePrefetchedGraph } from '../prefetch';
import { openEventStream } from '../lib/sse';
import { throttle } from '../lib/useAsync';
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

function metaOf(s: RunGraph): SummaryMeta {
  return { state: s.state, error: s.error, duration_ms: s.duration_ms, finished_at: s.finished_at, pipeline: s.pipeline, name: s.name, count: s.tasks.length };
}

function TaskFinder({ tasks, onFind }: { tasks: () => readonly RunTaskRef[]; onFind: (path: string) => void }) {
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
  // The KFP run (without its task details) comes with the graph summary.
  const [r, setRun] = useState<Run | undefined>(undefined);
  const [spec, setSpec] = useState<PipelineSpec | null | undefined>(undefined);
  const [specError, setSpecError] = useState<unknown>(undefined);
  const [meta, setMeta] = useState<SummaryMeta | null>(null);
  const [summaryError, setSummaryError] = useState<unknown>(undefined);
  const [structure, setStructure] = useState(0);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const tasksRef = useRef<readonly TaskBrief[]>([]);
  // Fetches the graph summary at once (after an action on the run).
  const refetchNow = useRef(() => {});
  useTitle(meta?.name ?? r?.display_name ?? 'Run');

  // The graph summary (brief tasks, the run, the spec: one request), fetched
  // again (throttled) when events say it changed.
  useEffect(() => {
    const ctrl = new AbortController();
    let inflight = false;
    // Asked again while a fetch was in flight: by an event, or by the
    // stream's opening (which matters only for a run that goes on).
    let again = false;
    let openedDuring = false;
    let lastDuration = 0;
    let specAsked = false;
    // An ended run changes only when a run event says so (a retry).
    let ended = false;
    const fetchSummary = async () => {
      if (inflight) {
        again = true;
        return;
      }
      inflight = true;
      const t0 = performance.now();
      try {
        // The entry script may have asked for it already (prefetch.ts).
        const s = (await takePrefetchedGraph(id)) ?? (await getRunGraph(id, ctrl.signal));
        if (ctrl.signal.aborted) return;
        ended = isTerminal(s.state);
        const changed = store.applySummary(s);
        taskCount = s.tasks.length;
        tasksRef.current = s.tasks;
        setRun(s.run);
        setMeta(metaOf(s));
        setSummaryError(undefined);
        if (changed) setStructure((v) => v + 1);
        if (!specAsked) {
          // The spec gives the graph its edges and the tasks not started
          // yet. It comes with the summary; an older server's run refers
          // to its pipeline version instead.
          specAsked = true;
          const doc = specOf(s.pipeline_spec);
          if (doc) setSpec(doc);
          else
            runSpec(s.run, ctrl.signal)
              .then(setSpec)
              .catch((e) => {
                if (ctrl.signal.aborted) return;
                setSpecError(e);
                setSpec(null);
              });
        }
      } catch (e) {
        if (!ctrl.signal.aborted) setSummaryError(e);
      } finally {
        lastDuration = performance.now() - t0;
        inflight = false;
        const more = again || (openedDuring && !ended);
        again = openedDuring = false;
        if (more && !ctrl.signal.aborted) refetch();
      }
    };
    // At most one summary at a time, spaced by how long the last one took
    // and by the run's size: a run of 20,000 tasks is fetched every ~10 s
    // at most (its states meanwhile come from the events).
    let taskCount = 0;
    const refetch = throttle(() => void fetchSummary(), () => Math.max(1000, 8 * lastDuration, taskCount / 2));
    refetchNow.current = () => {
      refetch.cancel();
      void fetchSummary();
    };
    void fetchSummary();
    const stop = openEventStream(`${WEIR}/events?run=${encodeURIComponent(id)}`, {
      onOpen: () => {
        setLive('live');
        // What changed before the stream was open is in no event: fetch
        // again, unless the run had ended (or the summary in flight says
        // it has).
        if (inflight) openedDuring = true;
        else if (!ended) refetch();
      },
      onMessage: (m) => {
        try {
          if (m.event === 'task') {
            const ev = JSON.parse(m.data) as TaskEvent;
            // A new task changes the graph: fetch the summary (throttled).
            // Known tasks change state from the event alone; an open task
            // panel fetches its own details.
            if (!store.applyTaskEvent(ev)) refetch();
          } else if (m.event === 'run') {
            const ev = JSON.parse(m.data) as RunEvent;
            ended = isTerminal(ev.state);
            setMeta((x) => (x ? { ...x, state: ev.state, error: ev.error ?? x.error, finished_at: ev.finished_at ?? x.finished_at } : x));
            refetch();
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
  /** Draws a task (expanding its groups), brings it into view and opens its panel. */
  const showTask = (path: string) => {
    view.reveal(path);
    select(path);
    setFocus(path);
  };
  // The summary's tasks change with meta (each fetch sets it).
  const failedAt = useMemo(() => (meta?.state === 'failed' ? failedTask(tasksRef.current) : undefined), [meta]);
  const reload = useCallback(() => refetchNow.current(), []);

  const state = meta?.state;
  const kfpState = r?.state;
  const ended = isTerminal(state);
  const canRetry = state === 'failed' || state === 'canceled';
  const pid = r?.pipeline_version_reference?.pipeline_id;
  const vid = r?.pipeline_version_reference?.pipeline_version_id;

  if (summaryError && !meta) {
    return (
      <div className="page">
        <ErrorBanner error={summaryError} onRetry={reload} title="Cannot load the run" />
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
              reload();
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
              reload();
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
            <ActionButton className="btn" onAction={async () => { await runAction(id, 'unarchive'); reload(); }} testid="unarchive-run">
              Restore
            </ActionButton>
          ) : (
            <ActionButton className="btn" disabled={!ended} onAction={async () => { await runAction(id, 'archive'); reload(); }} testid="archive-run">
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
          <span className="banner-msg">{meta?.error || r?.error?.message}</span>
          {failedAt && (
            <button type="button" className="btn btn-small" onClick={() => showTask(failedAt)} data-testid="show-failed-task">
              Show {baseName(failedAt)}
            </button>
          )}
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
                  <tr key={k} data-param={k}>
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
              onFind={showTask}
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
            onClose={() => select(undefined)}
          />
        )}
      </div>
      {!meta && <Loading label="Loading the run…" />}
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
