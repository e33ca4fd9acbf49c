import { useState } from 'react';
import { errorMessage } from '../api/client';
import { contentURL, downloadArtifact } from '../api/endpoints';
import { getToken } from '../api/auth';
import type { ArtifactRef } from '../api/types';
import { formatBytes, formatValue } from '../lib/format';
import { Link } from '../router';

export function DownloadLink({ id, name, className = 'btn btn-small' }: { id: string; name: string; className?: string }) {
  const [error, setError] = useState<string | null>(null);
  // With a token the download goes through fetch; without, a plain link
  // lets the browser stream it.
  if (!getToken()) {
    return (
      <a className={className} href={contentURL(id)} download data-testid="artifact-download">
        Download
      </a>
    );
  }
  return (
    <span>
      <button
        type="button"
        className={className}
        data-testid="artifact-download"
        onClick={() => downloadArtifact(id, name).catch((e) => setError(errorMessage(e)))}
      >
        Download
      </button>
      {error && (
        <span className="action-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/** Artifacts by input or output name, with links to their views. */
export function ArtifactList({ artifacts, runId, task }: { artifacts: Record<string, ArtifactRef[]>; runId: string; task: string }) {
  const entries = Object.entries(artifacts);
  if (entries.length === 0) return <p className="muted small">No artifacts.</p>;
  return (
    <ul className="artifacts">
      {entries.flatMap(([name, list]) =>
        list.map((a, i) => (
          <li key={`${name}:${i}`} className="artifact" data-artifact={a.artifact_id} data-type={a.type}>
            <div className="artifact-head">
              <code>{name}</code>
              {list.length > 1 && <span className="muted small">[{i}]</span>}
              <span className="tag">{a.type.replace(/^system\./, '')}</span>
              {a.size > 0 && <span className="muted small">{formatBytes(a.size)}</span>}
            </div>
            <div className="artifact-uri mono small" title={a.uri}>
              {a.uri}
            </div>
            {Object.keys(a.metadata).length > 0 && (
              <details className="small">
                <summary>metadata</summary>
                <pre className="json">{formatValue(a.metadata)}</pre>
              </details>
            )}
            {a.artifact_id && (
              <div className="row-actions left">
                <Link
                  className="btn btn-small"
                  to={`/artifacts/${encodeURIComponent(a.artifact_id)}?run=${encodeURIComponent(runId)}&task=${encodeURIComponent(task)}&name=${encodeURIComponent(name)}`}
                  data-testid="artifact-view"
                >
                  View
                </Link>
                <DownloadLink id={a.artifact_id} name={name} />
              </div>
            )}
          </li>
        )),
      )}
    </ul>
  );
}

export function ParamValues({ values }: { values: Record<string, unknown> }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p className="muted small">No parameters.</p>;
  return (
    <table className="table compact" data-testid="param-values">
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k} data-param={k.replace(/^pipelinechannel--/, '')}>
            <th scope="row">
              <code>{k.replace(/^pipelinechannel--/, '')}</code>
            </th>
            <td>
              <code className="value">{formatValue(v)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
