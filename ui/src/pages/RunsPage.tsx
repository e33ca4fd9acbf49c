import { useEffect, useMemo, useRef, useState } from 'react';
import { filterParam, listRuns, WEIR, type Predicate } from '../api/endpoints';
import { RUN_STATES, type Run } from '../api/types';
import { PagedTable, StateBadge } from '../components/common';
import { between, formatDuration, formatTime } from '../lib/format';
import { useNames } from '../lib/lookups';
import { openEventStream } from '../lib/sse';
import { throttle } from '../lib/useAsync';
import { useDebounced, usePaged } from '../lib/usePaged';
import { Link, navigate, setQuery, useLocation, useTitle } from '../router';

const SORTS: { value: string; label: string }[] = [
  { value: 'created_at desc', label: 'Newest first' },
  { value: 'created_at asc', label: 'Oldest first' },
  { value: 'display_name asc', label: 'Name A–Z' },
  { value: 'display_name desc', label: 'Name Z–A' },
  { value: 'finished_at desc', label: 'Recently finished' },
];

export const MAX_COMPARE = 10;

export function RunsPage() {
  useTitle('Runs');
  const loc = useLocation();
  const state = loc.query.get('state') ?? '';
  const sort = loc.query.get('sort') ?? 'created_at desc';
  const experiment = loc.query.get('experiment') ?? '';
  const [search, setSearch] = useState(loc.query.get('q') ?? '');
  const q = useDebounced(search.trim());
  const [pageSize, setPageSize] = useState(20);
  const [archived, setArchived] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const names = useNames();

  const list = usePaged(
    async (token, signal) => {
      const preds: Predicate[] = [];
      if (state) preds.push({ key: 'state', operation: 'EQUALS', string_value: state });
      if (q) preds.push({ key: 'display_name', operation: 'IS_SUBSTRING', string_value: q });
      preds.push({ key: 'storage_state', operation: 'EQUALS', string_value: archived ? 'ARCHIVED' : 'AVAILABLE' });
      const r = await listRuns(
        { page_token: token, page_size: pageSize, sort_by: sort, filter: filterParam(preds), experiment_id: experiment || undefined },
        signal,
      );
      return { items: r.runs ?? [], next: r.next_page_token, total: r.total_size };
    },
    [state, q, sort, pageSize, experiment, archived],
  );

  // Live: reload the page (at most every 3 s) when any run changes state.
  const reload = useRef(list.reload);
  reload.current = list.reload;
  useEffect(() => {
    const t = throttle(() => reload.current(), () => 3000);
    const stop = openEventStream(`${WEIR}/events`, {
      onMessage: (m) => {
        if (m.event === 'run' || m.event === 'resync') t();
      },
    });
    return () => {
      t.cancel();
      stop();
    };
  }, []);

  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : s.length >= MAX_COMPARE ? s : [...s, id]));

  const expName = experiment ? names.experiments?.get(experiment) ?? experiment : '';
  const compareHref = useMemo(() => `/compare?runs=${selected.map(encodeURIComponent).join(',')}`, [selected]);

  return (
    <div className="page">
      <div className="page-head">
        <h1>Runs{expName ? ` of ${expName}` : ''}</h1>
        <div className="row-actions">
          <button
            type="button"
            className="btn"
            disabled={selected.length < 2}
            title="Select 2 to 10 runs to compare them"
            onClick={() => navigate(compareHref)}
            data-testid="compare-runs"
          >
            Compare{selected.length ? ` (${selected.length})` : ''}
          </button>
          <Link className="btn btn-primary" to={`/runs/new${experiment ? `?experiment=${encodeURIComponent(experiment)}` : ''}`} data-testid="new-run">
            Create run
          </Link>
        </div>
      </div>
      <div className="toolbar">
        <label className="field grow">
          <span className="sr-only">Search runs by name</span>
          <input
            type="search"
            placeholder="Search by name"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setQuery({ q: e.target.value || undefined });
            }}
            data-testid="run-search"
          />
        </label>
        <label className="field">
          <span className="sr-only">State</span>
          <select value={state} onChange={(e) => setQuery({ state: e.target.value || undefined })} data-testid="state-filter">
            <option value="">All states</option>
            {RUN_STATES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="sr-only">Sort</span>
          <select value={sort} onChange={(e) => setQuery({ sort: e.target.value })} data-testid="run-sort">
            {SORTS.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Archived
        </label>
        {experiment && (
          <button type="button" className="btn btn-small" onClick={() => setQuery({ experiment: undefined })}>
            All experiments ✕
          </button>
        )}
      </div>
      <PagedTable
        list={list}
        pageSize={pageSize}
        onPageSize={setPageSize}
        empty={
          q || state ? (
            'No run matches these filters.'
          ) : (
            <>
              No runs yet. <Link to="/runs/new">Create one</Link> from an uploaded pipeline.
            </>
          )
        }
        testId="runs-table"
        head={
          <>
            <th className="check">
              <span className="sr-only">Select</span>
            </th>
            <th>Name</th>
            <th>State</th>
            <th>Pipeline</th>
            <th>Experiment</th>
            <th>Created</th>
            <th>Duration</th>
          </>
        }
        rows={(items) =>
          items.map((r: Run) => {
            const pid = r.pipeline_version_reference?.pipeline_id;
            return (
              <tr key={r.run_id} data-run={r.run_id} data-state={r.state} className={selected.includes(r.run_id) ? 'is-selected' : undefined}>
                <td className="check">
                  <input
                    type="checkbox"
                    aria-label={`Select ${r.display_name}`}
                    checked={selected.includes(r.run_id)}
                    disabled={!selected.includes(r.run_id) && selected.length >= MAX_COMPARE}
                    onChange={() => toggle(r.run_id)}
                    data-testid="run-select"
                  />
                </td>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.run_id)}`} data-testid="run-link">
                    {r.display_name}
                  </Link>
                  {r.recurring_run_id && (
                    <span className="tag" title="started by a recurring run">
                      recurring
                    </span>
                  )}
                </td>
                <td>
                  <StateBadge state={r.state} />
                </td>
                <td>
                  {pid ? (
                    <Link to={`/pipelines/${encodeURIComponent(pid)}?version=${encodeURIComponent(r.pipeline_version_reference?.pipeline_version_id ?? '')}`}>
                      {names.pipelines?.get(pid) ?? pid.slice(0, 8)}
                    </Link>
                  ) : (
                    <span className="muted">inline spec</span>
                  )}
                </td>
                <td>
                  <Link to={`/runs?experiment=${encodeURIComponent(r.experiment_id)}`}>{names.experiments?.get(r.experiment_id) ?? r.experiment_id.slice(0, 8)}</Link>
                </td>
                <td className="nowrap">{formatTime(r.created_at)}</td>
                <td className="nowrap">{formatDuration(between(r.created_at, r.finished_at))}</td>
              </tr>
            );
          })
        }
      />
      {selected.length > 0 && (
        <p className="muted small">
          {selected.length} selected for comparison (2 to {MAX_COMPARE}).{' '}
          <button type="button" className="btn-link" onClick={() => setSelected([])}>
            Clear
          </button>
        </p>
      )}
    </div>
  );
}
