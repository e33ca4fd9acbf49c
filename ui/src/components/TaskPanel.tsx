import { useEffect, useState } from 'react';
import type { Phase, TaskDetail } from '../api/types';
import { useTaskLive, useTaskSummary } from '../graph/hooks';
import type { GraphModel } from '../graph/model';
import type { RunStore } from '../graph/runStore';
import { between, formatDuration, formatTime } from '../lib/format';
import { ArtifactList, ParamValues } from './ArtifactList';
import { KeyValue, StateBadge } from './common';
import { LogView } from './LogView';
import { setQuery, useLocation } from '../router';

const TERMINAL: Phase[] = ['succeeded', 'failed', 'skipped', 'cached', 'canceled'];

export function isTerminal(p: Phase | undefined): boolean {
  return p !== undefined && TERMINAL.includes(p);
}

type Tab = 'details' | 'inputs' | 'outputs' | 'logs';

export function TaskPanel({
  runId,
  path,
  store,
  model,
  detail,
  onClose,
  onStale,
}: {
  runId: string;
  path: string;
  store: RunStore;
  model: GraphModel | null;
  detail?: TaskDetail;
  onClose: () => void;
  /** The fetched summary is older than the live state: fetch again. */
  onStale: () => void;
}) {
  const task = useTaskSummary(store, path);
  const live = useTaskLive(store, path);
  const node = model?.nodes.get(path);
  const state = live?.state ?? task?.state;
  const isContainer = (task?.kind ?? node?.kind) === 'container' || (task?.kind ?? node?.kind) === 'importer';
  // The tab is part of the URL (?tab=logs), so that it can be linked.
  const q = useLocation().query.get('tab');
  const tab: Tab = q === 'inputs' || q === 'outputs' || (q === 'logs' && isContainer) ? q : 'details';
  const setTab = (t: Tab) => setQuery({ tab: t === 'details' ? undefined : t });
  const [logAttempt, setLogAttempt] = useState<number | undefined>(undefined);

  useEffect(() => setLogAttempt(undefined), [path]);

  useEffect(() => {
    if (live && (!task || task.state !== live.state)) onStale();
  }, [task, live, onStale]);

  const tabs: [Tab, string][] = [
    ['details', 'Details'],
    ['inputs', 'Inputs'],
    ['outputs', 'Outputs'],
  ];
  if (isContainer) tabs.push(['logs', 'Logs']);

  const started = live?.started_at ?? detail?.start_time;
  const finished = live?.finished_at ?? detail?.end_time;
  const created = live?.created_at ?? detail?.create_time;
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
        {!task && tab !== 'logs' && (live ? <p className="muted">Loading the task…</p> : <p className="muted">This task has not started: it is not part of the run yet.</p>)}
        {tab === 'details' && (
          <>
            {(task?.error || live?.error) && (
              <div className="banner banner-error" role="alert" data-testid="task-error">
                {task?.error || live?.error}
              </div>
            )}
            <KeyValue
              rows={[
                ['Kind', task?.kind ?? node?.kind],
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
