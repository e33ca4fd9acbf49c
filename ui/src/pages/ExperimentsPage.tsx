import { useState } from 'react';
import { errorMessage } from '../api/client';
import { createExperiment, experimentAction, filterParam, listExperiments, type Predicate } from '../api/endpoints';
import { ActionButton, PagedTable } from '../components/common';
import { formatTime } from '../lib/format';
import { useDebounced, usePaged } from '../lib/usePaged';
import { Link, useTitle } from '../router';

export function ExperimentsPage() {
  useTitle('Experiments');
  const [search, setSearch] = useState('');
  const q = useDebounced(search.trim());
  const [archived, setArchived] = useState(false);
  const [pageSize, setPageSize] = useState(20);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<string | null>(null);
  const list = usePaged(
    async (token, signal) => {
      const preds: Predicate[] = [{ key: 'storage_state', operation: 'EQUALS', string_value: archived ? 'ARCHIVED' : 'AVAILABLE' }];
      if (q) preds.push({ key: 'display_name', operation: 'IS_SUBSTRING', string_value: q });
      const r = await listExperiments({ page_token: token, page_size: pageSize, sort_by: 'created_at desc', filter: filterParam(preds) }, signal);
      return { items: r.experiments ?? [], next: r.next_page_token, total: r.total_size };
    },
    [q, archived, pageSize],
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>Experiments</h1>
      </div>
      <form
        className="card form-inline"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!name.trim()) return;
          setCreating(true);
          setCreateError(null);
          try {
            await createExperiment(name.trim(), description.trim());
            setName('');
            setDescription('');
            list.reload();
          } catch (err) {
            setCreateError(errorMessage(err));
          } finally {
            setCreating(false);
          }
        }}
        aria-label="Create an experiment"
      >
        <label className="field">
          <span>New experiment</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={128} placeholder="name" data-testid="experiment-name" />
        </label>
        <label className="field grow">
          <span>Description</span>
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <button type="submit" className="btn btn-primary" disabled={!name.trim() || creating} data-testid="experiment-create">
          Create
        </button>
        {createError && (
          <div className="banner banner-error full" role="alert" data-testid="error-banner">
            {createError}
          </div>
        )}
      </form>
      <div className="toolbar">
        <label className="field grow">
          <span className="sr-only">Search experiments</span>
          <input type="search" placeholder="Search by name" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Archived
        </label>
      </div>
      <PagedTable
        list={list}
        pageSize={pageSize}
        onPageSize={setPageSize}
        empty={<>No experiments{q ? ` matching “${q}”` : ''}. Runs without one go to “Default”.</>}
        testId="experiments-table"
        head={
          <>
            <th>Name</th>
            <th>Description</th>
            <th>Created</th>
            <th>Last run</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </>
        }
        rows={(items) =>
          items.map((x) => (
            <tr key={x.experiment_id}>
              <td>
                <Link to={`/runs?experiment=${encodeURIComponent(x.experiment_id)}`}>{x.display_name}</Link>
              </td>
              <td className="muted clip">{x.description}</td>
              <td className="nowrap">{formatTime(x.created_at)}</td>
              <td className="nowrap">{formatTime(x.last_run_created_at)}</td>
              <td className="nowrap right">
                <Link className="btn btn-small" to={`/runs/new?experiment=${encodeURIComponent(x.experiment_id)}`}>
                  Create run
                </Link>{' '}
                <ActionButton
                  className="btn btn-small"
                  onAction={async () => {
                    await experimentAction(x.experiment_id, x.storage_state === 'ARCHIVED' ? 'unarchive' : 'archive');
                    list.reload();
                  }}
                >
                  {x.storage_state === 'ARCHIVED' ? 'Restore' : 'Archive'}
                </ActionButton>
              </td>
            </tr>
          ))
        }
      />
    </div>
  );
}
