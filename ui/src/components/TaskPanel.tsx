import { useEffect, useState } from 'react';
import { getTaskDetails } from '../api/endpoints';
import type { Phase, TaskDetailed } from '../api/types';
import { useTaskLive, useTaskBrief } from '../graph/hooks';
import type { GraphModel } from '../graph/model';
import type { RunStore } from '../graph/runStore';
import { between, formatDuration, formatTime } from '../lib/format';
import { ArtifactList, ParamValues } from './ArtifactList';
import { ErrorBanner, KeyValue, StateBadge } from './common';
import { LogView } from './LogView';
import { setQuery, useLocation } from '../router';

const TERMINAL: Phase[] = ['succeeded', 'failed', 'skipped', 'cached', 'canceled'];

export function isTerminal(p: Phase | undefined): boolean {
  return p !== undefined && TERMINAL.includes(p);
}

type Tab = 'details' | 'inputs' | 'outputs' | 'logs';

interface DetailState {
  key: string;
  /** The task's full summary; null when the run has no such task (yet). */
  detail?: TaskDetailed | null;
  error?: unknown;
}

/**
 * A task's full summary (inputs, outputs, attempts, times), fetched when
 * the panel opens and again when version changes (the task changed state
 * or attempt). The summary the graph is drawn from holds none of it.
 */
function useTaskDetail(runId: string, path: string, version: string): DetailState & { loading: boolean } {
  const key = `${runId}\n${path}`;
  const [st, setSt] = useState<DetailState>({ key });
  useEffect(() => {
    const ctrl = new AbortController();
    getTaskDetails(runId, [path], ctrl.signal)
      .then((d) => setSt({ key, detail: d.tasks.find((t) => t.name === path) ?? null }))
      .catch((e) => {
        if (!ctrl.signal.aborted) setSt((s) => ({ ...s, key, error: e }));
      });
    return () => ctrl.abort();
  }, [key, version]);
  // What was fetched for another task is never shown for this one.
  if (st.key !== key) return { key, loading: true };
  return { ...st, loading: st.detail === undefined && st.error === undefined };
}

export function TaskPanel({
  runId,
  path,
  store,
  model,
  onClose,
}: {
  runId: string;
  path: string;
  store: RunStore;
  model: GraphModel | null;
  onClose: () => void;
}) {
  const brief = useTaskBrief(store, path);
  const live = useTaskLive(store, path);
  const node = model?.nodes.get(path);
  const state = live?.state ?? brief?.state;
  const { detail, error: detailError, loading } = useTaskDetail(runId, path, `${state ?? ''}:${live?.attempt ?? brief?.attempts ?? ''}`);
  const task = detail ?? undefined;
  const kind = brief?.kind ?? task?.kind ?? node?.kind;
  const isContainer = kind === 'container' || kind === 'importer';
  // The tab is part of the URL (?tab=logs), so that it can be linked.
  const q = useLocation().query.get('tab');
  const tab: Tab = q === 'inputs' || q === 'outputs' || (q === 'logs' && isContainer) ? q : 'details';
  const setTab = (t: Tab) => setQuery({ tab: t === 'details' ? undefined : t });
  const [logAttempt, setLogAttempt] = useState<number | undefined>(undefined);

  useEffect(() => setLogAttempt(undefined), [path]);

  const tabs: [Tab, string][] = [
    ['details', 'Details'],
    ['inputs', 'Inputs'],
    ['outputs', 'Outputs'],
  ];
  if (isContainer) tabs.push(['logs', 'Logs']);

  const started = live?.started_at ?? task?.started_at;
  const finished = live?.finished_at ?? task?.finished_at;
  const created = live?.created_at ?? task?.created_at;
  const attempts = task?.attempt_history ?? [];
  const lastAttempt = attempts.length ? attempts[attempts.length - 1].number : live?.attempt;
  const following = !isTerminal(state) && (logAttempt === undefined || logAttempt === lastAttempt);

  return (
    <aside className="panel" aria-label={`Task ${path}`} data-testid="task-panel" data-task={path} data-state={state}>
      <div className="panel-head">
        <div className="panel-title">
          <h2 title={path}>{path.split('/').pop()}</h2>
          <StateBadge state={state} />
        </div>
        <div className="muted small mono path">{path}</div>
        <button type="button" className="btn btn-small btn-ghost close" onClick={onClose} aria-label="Close the task panel" data-testid="panel-close">
          ✕
        </button>
      </div>
      <div className="tabs" role="tablist" aria-label="Task views">
        {tabs.map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            className={tab === t ? 'active' : undefined}
            onClick={() => setTab(t)}
            data-testid={`tab-${t}`}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="panel-body" role="tabpanel">
        <ErrorBanner error={detailError} title="Task details" />
        {!task && !detailError && tab !== 'logs' && (loading || live || brief ? <p className="muted" role="status">Loading the task…</p> : <p className="muted">This task has not started: it is not part of the run yet.</p>)}
        {tab === 'details' && (
          <>
            {(live?.error || task?.error || brief?.error) && (
              <div className="banner banner-error" role="alert" data-testid="task-error">
                {live?.error || task?.error || brief?.error}
              </div>
            )}
            <KeyValue
              rows={[
                ['Kind', kind],
                ['Role', node && node.role !== 'task' && node.role !== 'pipeline' ? node.role : undefined],
                ['Condition', node?.condition ? <code key="c">{node.condition}</code> : undefined],
                ['Created', formatTime(created)],
                ['Started', formatTime(started)],
                ['Finished', formatTime(finished)],
                ['Duration', formatDuration(task?.duration_ms || between(started, finished))],
                ['Attempts', task && task.attempts > 0 ? String(task.attempts) : undefined],
                ['Exit code', task?.exit_code !== undefined ? String(task.exit_code) : undefined],
                ['Cached from', task?.cached_from ? <code key="cf">{task.cached_from}</code> : undefined],
                ['Depends on', node?.deps.length ? node.deps.join(', ') : undefined],
              ]}
            />
            {state === 'cached' && <p className="muted small">The results were reused from an earlier run (cache hit): it did not run again.</p>}
            {attempts.length > 0 && (
              <>
                <h3>Attempts</h3>
                <table className="table compact" data-testid="attempts">
                  <thead>
                    <tr>
                      <th>#</th>
                      <th>State</th>
                      <th>Exit</th>
                      <th>Duration</th>
                      <th>
                        <span className="sr-only">Log</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {attempts.map((a) => (
                      <tr key={a.number} data-attempt={a.number}>
                        <td>{a.number}</td>
                        <td>
                          <StateBadge state={a.state} />
                          {a.error && <div className="attempt-error small">{a.error}</div>}
                        </td>
                        <td>{a.exit_code ?? ''}</td>
                        <td>{formatDuration(a.duration_ms)}</td>
                        <td>
                          <button
                            type="button"
                            className="btn btn-small"
                            onClick={() => {
                              setLogAttempt(a.number);
                              setTab('logs');
                            }}
                          >
                            Log
                          </button>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </>
            )}
          </>
        )}
        {tab === 'inputs' && task && (
          <>
            <h3>Parameters</h3>
            <ParamValues values={task.inputs.parameters} />
            <h3>Artifacts</h3>
            <ArtifactList artifacts={task.inputs.artifacts} runId={runId} task={path} />
          </>
        )}
        {tab === 'outputs' && task && (
          <>
            <h3>Parameters</h3>
            <ParamValues values={task.outputs.parameters} />
            <h3>Artifacts</h3>
            <ArtifactList artifacts={task.outputs.artifacts} runId={runId} task={path} />
          </>
        )}
        {tab === 'logs' && (
          <>
            {attempts.length > 1 && (
              <label className="inline small">
                Attempt{' '}
                <select value={logAttempt ?? ''} onChange={(e) => setLogAttempt(e.target.value ? Number(e.target.value) : undefined)}>
                  <option value="">latest</option>
                  {attempts.map((a) => (
                    <option key={a.number} value={a.number}>
                      {a.number} ({a.state})
                    </option>
                  ))}
                </select>
              </label>
            )}
            {state === 'skipped' || (state === 'cached' && attempts.length === 0) ? (
              <p className="muted">This task did not run, so it has no log.</p>
            ) : (
              <LogView key={`${path}:${logAttempt ?? 'last'}:${following ? lastAttempt ?? 0 : 'x'}`} runId={runId} task={path} attempt={logAttempt} follow={following} />
            )}
          </>
        )}
      </div>
    </aside>
  );
}
