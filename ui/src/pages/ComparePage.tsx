import { useState } from 'react';
import { getPreview, getRun, getRunSummary } from '../api/endpoints';
import { ErrorBanner, Loading, StateBadge } from '../components/common';
import { metricSources, rowsOf, type CompareRow } from '../lib/compare';
import { between, formatDuration, formatNumber, formatTime, formatValue } from '../lib/format';
import { useNames } from '../lib/lookups';
import { useAsync } from '../lib/useAsync';
import { Link, useLocation, useTitle } from '../router';

async function loadRun(id: string, signal: AbortSignal) {
  const [run, summary] = await Promise.all([getRun(id, signal), getRunSummary(id, signal)]);
  const metrics: Record<string, string> = {};
  const sources = metricSources(summary).slice(0, 50);
  const previews = await Promise.all(sources.map((s) => getPreview(s.artifactId, signal).catch(() => null)));
  sources.forEach((s, i) => {
    for (const [k, v] of Object.entries(previews[i]?.metrics ?? {})) metrics[`${s.key} · ${k}`] = formatNumber(v);
  });
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(run.runtime_config.parameters ?? {})) params[k] = formatValue(v);
  return { run, summary, params, metrics };
}

export function ComparePage() {
  useTitle('Compare runs');
  const loc = useLocation();
  const ids = (loc.query.get('runs') ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, 10);
  const names = useNames();
  const [onlyDiff, setOnlyDiff] = useState(false);
  const data = useAsync((signal) => Promise.all(ids.map((id) => loadRun(id, signal))), [ids.join(',')]);

  if (ids.length < 2) {
    return (
      <div className="page">
        <h1>Compare runs</h1>
        <p>
          Select 2 to 10 runs in the <Link to="/runs">runs list</Link> and press Compare.
        </p>
      </div>
    );
  }
  const runs = data.data ?? [];
  const overview: CompareRow[] = runs.length
    ? rowsOf('Run', runs.map((r) => ({
        state: r.run.state,
        pipeline: names.pipelines?.get(r.run.pipeline_version_reference?.pipeline_id ?? '') ?? r.summary.pipeline,
        created: formatTime(r.run.created_at),
        duration: formatDuration(between(r.run.created_at, r.run.finished_at)),
      })))
    : [];
  const sections: [string, CompareRow[]][] = [
    ['Run', overview],
    ['Parameters', rowsOf('Parameters', runs.map((r) => r.params))],
    ['Metrics', rowsOf('Metrics', runs.map((r) => r.metrics))],
  ];
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link> / <span>Compare</span>
      </nav>
      <div className="page-head">
        <h1>Compare {ids.length} runs</h1>
        <label className="inline">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} data-testid="only-differences" /> Only differences
        </label>
      </div>
      <ErrorBanner error={data.error} onRetry={data.reload} />
      {data.loading && !data.data ? (
        <Loading />
      ) : (
        runs.length > 0 && (
          <div className="table-wrap">
            <table className="table compare" data-testid="compare-table">
              <thead>
                <tr>
                  <th scope="col">
                    <span className="sr-only">Field</span>
                  </th>
                  {runs.map((r) => (
                    <th key={r.run.run_id} scope="col">
                      <Link to={`/runs/${encodeURIComponent(r.run.run_id)}`}>{r.run.display_name}</Link>
                      <div>
                        <StateBadge state={r.run.state} />
                      </div>
                    </th>
                  ))}
                </tr>
              </thead>
              {sections.map(([title, rows]) => {
                const shown = rows.filter((r) => !onlyDiff || r.differs || title === 'Run');
                return (
                  <tbody key={title}>
                    <tr className="section">
                      <th colSpan={runs.length + 1} scope="colgroup">
                        {title}
                      </th>
                    </tr>
                    {shown.length === 0 && (
                      <tr>
                        <td colSpan={runs.length + 1} className="muted small">
                          {rows.length ? 'No differences.' : title === 'Metrics' ? 'No Metrics artifacts in these runs.' : 'None.'}
                        </td>
                      </tr>
                    )}
                    {shown
                      .filter((r) => title !== 'Run' || r.key !== 'state')
                      .map((r) => (
                        <tr key={r.key} className={r.differs ? 'diff' : undefined} data-differs={r.differs || undefined} data-section={title} data-key={r.key}>
                          <th scope="row" className="mono small">
                            {r.key}
                          </th>
                          {r.values.map((v, i) => (
                            <td key={i} className="mono">
                              {v ?? <span className="muted">—</span>}
                            </td>
                          ))}
                        </tr>
                      ))}
                  </tbody>
                );
              })}
            </table>
          </div>
        )
      )}
    </div>
  );
}
