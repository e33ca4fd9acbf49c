import type { Preview } from '../api/types';
import { formatBytes, formatNumber, formatValue } from '../lib/format';
import { ConfusionMatrix, RocCurve, rocPoints } from './charts';
import { Markdown } from './Markdown';

export function MetricsTable({ metrics }: { metrics: Record<string, number> }) {
  const entries = Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p className="muted">No numeric metrics.</p>;
  return (
    <table className="table compact metrics" data-testid="metrics-table">
      <thead>
        <tr>
          <th>Metric</th>
          <th className="right">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="right mono">{formatNumber(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** An artifact's typed preview. */
export function PreviewView({ preview }: { preview: Preview }) {
  const p = preview;
  switch (p.kind) {
    case 'metrics':
      return <MetricsTable metrics={p.metrics ?? {}} />;
    case 'classification_metrics': {
      const roc = rocPoints(p.confidence_metrics ?? []);
      return (
        <div className="cls-metrics">
          {p.confusion_matrix && p.confusion_matrix.labels.length > 0 && (
            <section>
              <h3>Confusion matrix</h3>
              <ConfusionMatrix labels={p.confusion_matrix.labels} rows={p.confusion_matrix.rows} />
            </section>
          )}
          {roc.length > 0 && (
            <section>
              <h3>ROC curve</h3>
              <RocCurve points={roc} />
            </section>
          )}
          {!p.confusion_matrix && roc.length === 0 && <p className="muted">{p.note ?? 'No confusion matrix or confidence metrics.'}</p>}
          {p.metrics && Object.keys(p.metrics).length > 0 && <MetricsTable metrics={p.metrics} />}
        </div>
      );
    }
    case 'html':
      return (
        <>
          {p.truncated && <p className="muted small">Only the first MiB is shown.</p>}
          <iframe className="html-preview" title="HTML artifact" sandbox="" srcDoc={p.text ?? ''} referrerPolicy="no-referrer" data-testid="html-preview" />
        </>
      );
    case 'markdown':
      return (
        <>
          {p.truncated && <p className="muted small">Only the first MiB is shown.</p>}
          <Markdown text={p.text ?? ''} />
        </>
      );
    case 'table':
      return (
        <>
          <p className="muted small">
            First {p.rows?.length ?? 0} rows ({p.format?.toUpperCase()}, {formatBytes(p.size)} in all)
          </p>
          <div className="table-wrap">
            <table className="table compact data" data-testid="dataset-table">
              <thead>
                <tr>
                  {(p.columns ?? []).map((c, i) => (
                    <th key={i}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {(p.rows ?? []).map((r, i) => (
                  <tr key={i}>
                    {r.map((c, j) => (
                      <td key={j} className="mono">
                        {c}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      );
    case 'json_lines':
      return (
        <>
          <p className="muted small">First {p.records?.length ?? 0} records</p>
          <pre className="json" data-testid="jsonl-preview">
            {(p.records ?? []).map((r) => formatValue(r)).join('\n')}
          </pre>
        </>
      );
    case 'text':
      return (
        <>
          <p className="muted small">First {p.lines?.length ?? 0} lines</p>
          <pre className="json" data-testid="text-preview">
            {(p.lines ?? []).join('\n')}
          </pre>
        </>
      );
    default:
      return <p className="muted">{p.note ?? 'No preview for this artifact: download it.'}</p>;
  }
}
