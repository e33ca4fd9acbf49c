import { useRef, useState, type DragEvent } from 'react';
import { filterParam, listPipelines, uploadPipeline } from '../api/endpoints';
import { errorMessage } from '../api/client';
import { ErrorBanner, PagedTable } from '../components/common';
import { formatBytes, formatTime } from '../lib/format';
import { useDebounced, usePaged } from '../lib/usePaged';
import { Link, navigate, setQuery, useLocation, useTitle } from '../router';

function UploadBox({ onUploaded }: { onUploaded: (id: string) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const pick = (f: File | undefined | null) => {
    if (!f) return;
    setFile(f);
    setError(null);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    pick(e.dataTransfer.files?.[0]);
  };
  const submit = async () => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const p = await uploadPipeline(file, { name: name.trim() || undefined, description: description.trim() || undefined });
      onUploaded(p.pipeline_id);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card upload" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a pipeline</h2>
      <div
        className={`dropzone${over ? ' is-over' : ''}`}
        data-testid="upload-dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        role="button"
        tabIndex={0}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            input.current?.click();
          }
        }}
        onClick={() => input.current?.click()}
        aria-label="Choose a compiled pipeline file, or drop one here"
      >
        {file ? (
          <span>
            <strong>{file.name}</strong> ({formatBytes(file.size)}) — click to choose another
          </span>
        ) : (
          <span>Drop a compiled pipeline (YAML or JSON) here, or click to choose a file</span>
        )}
        <input
          ref={input}
          type="file"
          accept=".yaml,.yml,.json,application/yaml,application/json,text/yaml"
          hidden
          data-testid="upload-file"
          onChange={(e) => pick(e.target.files?.[0])}
        />
      </div>
      <div className="form-row">
        <label className="field">
          <span>Name (optional)</span>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="the pipeline's own name" maxLength={128} data-testid="upload-name" />
        </label>
        <label className="field">
          <span>Description (optional)</span>
          <input value={description} onChange={(e) => setDescription(e.target.value)} data-testid="upload-description" />
        </label>
      </div>
      <ErrorBanner title="Upload failed" error={error} />
      <div className="row-actions">
        <button type="button" className="btn btn-primary" disabled={!file || busy} onClick={submit} data-testid="upload-submit">
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </div>
    </section>
  );
}

export function PipelinesPage() {
  useTitle('Pipelines');
  const loc = useLocation();
  const [search, setSearch] = useState(loc.query.get('q') ?? '');
  const q = useDebounced(search.trim());
  const [pageSize, setPageSize] = useState(20);
  const [showUpload, setShowUpload] = useState(false);
  const list = usePaged(
    async (token, signal) => {
      const r = await listPipelines(
        {
          page_token: token,
          page_size: pageSize,
          sort_by: 'created_at desc',
          filter: filterParam(q ? [{ key: 'display_name', operation: 'IS_SUBSTRING', string_value: q }] : []),
        },
        signal,
      );
      return { items: r.pipelines ?? [], next: r.next_page_token, total: r.total_size };
    },
    [q, pageSize],
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>Pipelines</h1>
        <button type="button" className="btn btn-primary" onClick={() => setShowUpload((s) => !s)} aria-expanded={showUpload} data-testid="upload-open">
          Upload pipeline
        </button>
      </div>
      {showUpload && <UploadBox onUploaded={(id) => navigate(`/pipelines/${encodeURIComponent(id)}`)} />}
      <div className="toolbar">
        <label className="field grow">
          <span className="sr-only">Search pipelines</span>
          <input
            type="search"
            placeholder="Search by name"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setQuery({ q: e.target.value || undefined });
            }}
            data-testid="pipeline-search"
          />
        </label>
      </div>
      <PagedTable
        list={list}
        pageSize={pageSize}
        onPageSize={setPageSize}
        empty={q ? `No pipeline matches “${q}”.` : 'No pipelines yet: upload a compiled pipeline to start.'}
        testId="pipelines-table"
        head={
          <>
            <th>Name</th>
            <th>Description</th>
            <th>Created</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </>
        }
        rows={(items) =>
          items.map((p) => (
            <tr key={p.pipeline_id}>
              <td>
                <Link to={`/pipelines/${encodeURIComponent(p.pipeline_id)}`} data-testid="pipeline-link">
                  {p.display_name || p.name}
                </Link>
              </td>
              <td className="muted clip">{p.description}</td>
              <td className="nowrap">{formatTime(p.created_at)}</td>
              <td className="nowrap right">
                <Link className="btn btn-small" to={`/runs/new?pipeline=${encodeURIComponent(p.pipeline_id)}`}>
                  Create run
                </Link>
              </td>
            </tr>
          ))
        }
      />
    </div>
  );
}
