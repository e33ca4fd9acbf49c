import { useMemo, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import { deletePipeline, getPipeline, listPipelineVersions, specOf, uploadPipelineVersion } from '../api/endpoints';
import { ActionButton, ErrorBanner, KeyValue, Loading } from '../components/common';
import { ParamsTable } from '../components/ParamsTable';
import { SpecGraph } from '../graph/SpecGraph';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { Link, navigate, setQuery, useLocation, useTitle } from '../router';

function UploadVersion({ pipelineId, onDone }: { pipelineId: string; onDone: (versionId: string) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    <div className="card">
      <h3>Upload a new version</h3>
      <div className="form-row">
        <label className="field">
          <span>File</span>
          <input ref={input} type="file" accept=".yaml,.yml,.json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="version-file" />
        </label>
        <label className="field">
          <span>Version name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={128} required data-testid="version-name" />
        </label>
      </div>
      <ErrorBanner title="Upload failed" error={error} />
      <div className="row-actions">
        <button
          type="button"
          className="btn btn-primary"
          disabled={!file || !name.trim() || busy}
          data-testid="version-upload"
          onClick={async () => {
            if (!file) return;
            setBusy(true);
            setError(null);
            try {
              const v = await uploadPipelineVersion(pipelineId, file, name.trim());
              onDone(v.pipeline_version_id);
            } catch (e) {
              setError(errorMessage(e));
            } finally {
              setBusy(false);
            }
          }}
        >
          {busy ? 'Uploading…' : 'Upload version'}
        </button>
      </div>
    </div>
  );
}

export function PipelinePage({ id }: { id: string }) {
  const loc = useLocation();
  const pipeline = useAsync((s) => getPipeline(id, s), [id]);
  const versions = useAsync((s) => listPipelineVersions(id, { page_size: 200, sort_by: 'created_at desc' }, s), [id]);
  const [uploading, setUploading] = useState(false);
  useTitle(pipeline.data?.display_name ?? 'Pipeline');
  const list = versions.data?.pipeline_versions ?? [];
  const wanted = loc.query.get('version');
  const version = list.find((v) => v.pipeline_version_id === wanted) ?? list[0];
  const spec = useMemo(() => specOf(version?.pipeline_spec), [version]);
  if (pipeline.error) return <div className="page"><ErrorBanner error={pipeline.error} onRetry={pipeline.reload} /></div>;
  if (!pipeline.data) return <div className="page"><Loading /></div>;
  const p = pipeline.data;
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/pipelines">Pipelines</Link> / <span>{p.display_name}</span>
      </nav>
      <div className="page-head">
        <h1>{p.display_name}</h1>
        <div className="row-actions">
          {version && (
            <Link
              className="btn btn-primary"
              data-testid="create-run"
              to={`/runs/new?pipeline=${encodeURIComponent(id)}&version=${encodeURIComponent(version.pipeline_version_id)}`}
            >
              Create run
            </Link>
          )}
          <button type="button" className="btn" onClick={() => setUploading((u) => !u)} aria-expanded={uploading}>
            Upload version
          </button>
          <ActionButton
            className="btn btn-danger"
            confirm={`Delete the pipeline “${p.display_name}” and all its versions?`}
            onAction={async () => {
              await deletePipeline(id);
              navigate('/pipelines');
            }}
            testid="delete-pipeline"
          >
            Delete
          </ActionButton>
        </div>
      </div>
      {p.description && <p className="lead">{p.description}</p>}
      {uploading && (
        <UploadVersion
          pipelineId={id}
          onDone={(vid) => {
            setUploading(false);
            versions.reload();
            setQuery({ version: vid });
          }}
        />
      )}
      <ErrorBanner error={versions.error} onRetry={versions.reload} />
      <div className="split">
        <section className="card versions" aria-labelledby="versions-title">
          <h2 id="versions-title">Versions</h2>
          {versions.loading && !versions.data ? (
            <Loading />
          ) : list.length === 0 ? (
            <p className="muted">No versions.</p>
          ) : (
            <ul className="version-list" data-testid="version-list">
              {list.map((v) => (
                <li key={v.pipeline_version_id}>
                  <Link
                    to={`/pipelines/${encodeURIComponent(id)}?version=${encodeURIComponent(v.pipeline_version_id)}`}
                    className={v === version ? 'active' : undefined}
                    aria-current={v === version ? 'true' : undefined}
                  >
                    <span>{v.display_name}</span>
                    <span className="muted small">{formatTime(v.created_at)}</span>
                  </Link>
                </li>
              ))}
            </ul>
          )}
          <KeyValue
            rows={[
              ['Pipeline id', <code key="id">{p.pipeline_id}</code>],
              ['Created', formatTime(p.created_at)],
              ['Version id', version ? <code key="v">{version.pipeline_version_id}</code> : undefined],
              ['SDK', spec?.sdkVersion],
            ]}
          />
        </section>
        <section className="card grow" aria-labelledby="graph-title">
          <h2 id="graph-title">Graph{version ? ` of ${version.display_name}` : ''}</h2>
          {spec ? <SpecGraph key={version?.pipeline_version_id} spec={spec} /> : versions.data ? <p className="muted">No spec to draw.</p> : <Loading />}
        </section>
      </div>
      <section className="card" aria-labelledby="params-title">
        <h2 id="params-title">Parameters</h2>
        {spec ? <ParamsTable spec={spec} /> : null}
      </section>
    </div>
  );
}
