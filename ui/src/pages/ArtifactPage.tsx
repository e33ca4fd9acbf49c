import { getArtifact, getLineage, getPreview } from '../api/endpoints';
import type { LineageTask } from '../api/types';
import { DownloadLink } from '../components/ArtifactList';
import { ErrorBanner, KeyValue, Loading } from '../components/common';
import { PreviewView } from '../artifacts/Preview';
import { formatBytes, formatTime, formatValue } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { Link, useLocation, useTitle } from '../router';

function taskHref(t: LineageTask) {
  return `/runs/${encodeURIComponent(t.run_id)}?task=${encodeURIComponent(t.task)}`;
}

function LineageList({ items, empty, testid }: { items: LineageTask[]; empty: string; testid: string }) {
  if (items.length === 0) return <p className="muted small">{empty}</p>;
  return (
    <ul className="lineage" data-testid={testid}>
      {items.map((t, i) => (
        <li key={`${t.task_run_id}:${t.name}:${i}`}>
          <Link to={taskHref(t)}>
            <span className="mono">{t.task}</span>
          </Link>{' '}
          <span className="muted small">
            as <code>{t.name}</code> in run{' '}
          </span>
          <Link to={`/runs/${encodeURIComponent(t.run_id)}`}>{t.run_name || t.run_id}</Link>
          {t.attempt ? <span className="muted small"> · attempt {t.attempt}</span> : null}
          {t.created_at ? <span className="muted small"> · {formatTime(t.created_at)}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function ArtifactPage({ id }: { id: string }) {
  const loc = useLocation();
  const runId = loc.query.get('run');
  const task = loc.query.get('task');
  const name = loc.query.get('name') ?? '';
  const art = useAsync((s) => getArtifact(id, s), [id]);
  const preview = useAsync((s) => getPreview(id, s), [id]);
  const lineage = useAsync((s) => getLineage(id, s), [id]);
  const a = art.data;
  const title = name || a?.uri.split('/').pop() || 'Artifact';
  useTitle(title);
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link>
        {runId && (
          <>
            {' / '}
            <Link to={`/runs/${encodeURIComponent(runId)}${task ? `?task=${encodeURIComponent(task)}` : ''}`}>{task ?? 'run'}</Link>
          </>
        )}
        {' / '}
        <span>{title}</span>
      </nav>
      <div className="page-head">
        <h1>
          {title} {a && <span className="tag">{a.type}</span>}
        </h1>
        {a && <DownloadLink id={id} name={title} className="btn" />}
      </div>
      <ErrorBanner error={art.error} onRetry={art.reload} />
      {a && (
        <section className="card">
          <KeyValue
            rows={[
              ['Artifact id', <code key="id">{a.artifact_id}</code>],
              ['URI', <code key="uri" className="break">{a.uri}</code>],
              ['Size', formatBytes(a.size)],
              ['Digest', a.digest ? <code key="d" className="break">{a.digest}</code> : undefined],
              ['Schema', `${a.type} ${a.schema_version}`],
              ['Created', formatTime(a.created_at)],
            ]}
          />
          {Object.keys(a.metadata).length > 0 && (
            <details>
              <summary>Metadata</summary>
              <pre className="json">{JSON.stringify(a.metadata, null, 2)}</pre>
            </details>
          )}
        </section>
      )}
      <section className="card" aria-labelledby="preview-title" data-testid="artifact-preview" data-kind={preview.data?.kind}>
        <h2 id="preview-title">Preview</h2>
        <ErrorBanner error={preview.error} onRetry={preview.reload} />
        {preview.loading && !preview.data ? <Loading /> : preview.data && <PreviewView preview={preview.data} />}
      </section>
      <section className="card" aria-labelledby="lineage-title" data-testid="lineage">
        <h2 id="lineage-title">Lineage</h2>
        <ErrorBanner error={lineage.error} onRetry={lineage.reload} />
        {lineage.data && (
          <div className="lineage-grid">
            <div>
              <h3>Produced by</h3>
              {lineage.data.producer ? (
                <LineageList items={[lineage.data.producer]} empty="" testid="lineage-producer" />
              ) : (
                <p className="muted small">No task claims it (e.g. imported).</p>
              )}
            </div>
            <div>
              <h3>Consumed by</h3>
              <LineageList items={lineage.data.consumers} empty="No task has taken it as an input yet." testid="lineage-consumers" />
            </div>
            {lineage.data.reused.length > 0 && (
              <div>
                <h3>Also output by</h3>
                <LineageList items={lineage.data.reused} empty="" testid="lineage-reused" />
              </div>
            )}
          </div>
        )}
        {lineage.loading && !lineage.data && <Loading />}
      </section>
      {a && Object.keys(a.metadata).length > 0 && preview.data?.kind === 'none' && <pre className="json">{formatValue(a.metadata)}</pre>}
    </div>
  );
}
