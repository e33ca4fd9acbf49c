import { useState } from 'react';
import { deleteRecurringRun, listRecurringRuns, recurringRunAction } from '../api/endpoints';
import type { RecurringRun } from '../api/types';
import { ActionButton, PagedTable } from '../components/common';
import { formatDuration, formatTime } from '../lib/format';
import { useNames } from '../lib/lookups';
import { usePaged } from '../lib/usePaged';
import { Link, useTitle } from '../router';

export function describeTrigger(t: RecurringRun['trigger']): string {
  if (t.cron_schedule) return `cron ${t.cron_schedule.cron}`;
  if (t.periodic_schedule) return `every ${formatDuration(Number(t.periodic_schedule.interval_second) * 1000)}`;
  return '';
}

export function RecurringRunsPage() {
  useTitle('Recurring runs');
  const [pageSize, setPageSize] = useState(20);
  const names = useNames();
  const list = usePaged(
    async (token, signal) => {
      const r = await listRecurringRuns({ page_token: token, page_size: pageSize, sort_by: 'created_at desc' }, signal);
      return { items: r.recurringRuns ?? [], next: r.next_page_token, total: r.total_size };
    },
    [pageSize],
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>Recurring runs</h1>
        <Link className="btn btn-primary" to="/runs/new?mode=recurring" data-testid="new-recurring">
          Create recurring run
        </Link>
      </div>
      <PagedTable
        list={list}
        pageSize={pageSize}
        onPageSize={setPageSize}
        empty="No recurring runs."
        testId="recurring-table"
        head={
          <>
            <th>Name</th>
            <th>Status</th>
            <th>Trigger</th>
            <th>Pipeline</th>
            <th>Experiment</th>
            <th>Created</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </>
        }
        rows={(items) =>
          items.map((r) => {
            const pid = r.pipeline_version_reference?.pipeline_id;
            const enabled = r.status === 'ENABLED';
            return (
              <tr key={r.recurring_run_id} data-recurring={r.recurring_run_id} data-status={r.status}>
                <td>
                  {r.display_name}
                  {r.description && <div className="muted small">{r.description}</div>}
                </td>
                <td>
                  <span className={`badge ${enabled ? 'state-succeeded' : 'state-skipped'}`}>{r.status.toLowerCase()}</span>
                </td>
                <td className="mono small">{describeTrigger(r.trigger)}</td>
                <td>{pid ? <Link to={`/pipelines/${encodeURIComponent(pid)}`}>{names.pipelines?.get(pid) ?? pid.slice(0, 8)}</Link> : <span className="muted">inline</span>}</td>
                <td>
                  <Link to={`/runs?experiment=${encodeURIComponent(r.experiment_id)}`}>{names.experiments?.get(r.experiment_id) ?? r.experiment_id.slice(0, 8)}</Link>
                </td>
                <td className="nowrap">{formatTime(r.created_at)}</td>
                <td className="nowrap right">
                  <ActionButton
                    className="btn btn-small"
                    onAction={async () => {
                      await recurringRunAction(r.recurring_run_id, enabled ? 'disable' : 'enable');
                      list.reload();
                    }}
                    testid={enabled ? 'recurring-disable' : 'recurring-enable'}
                  >
                    {enabled ? 'Disable' : 'Enable'}
                  </ActionButton>{' '}
                  <ActionButton
                    className="btn btn-small btn-danger"
                    confirm={`Delete the recurring run “${r.display_name}”? Its runs are kept.`}
                    onAction={async () => {
                      await deleteRecurringRun(r.recurring_run_id);
                      list.reload();
                    }}
                  >
                    Delete
                  </ActionButton>
                </td>
              </tr>
            );
          })
        }
      />
    </div>
  );
}
