import { useState, type ReactNode } from 'react';
import { errorMessage } from '../api/client';
import type { Phase, RunState } from '../api/types';

const runStateClass: Record<string, string> = {
  PENDING: 'pending',
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  CANCELED: 'canceled',
  CANCELING: 'canceling',
};

/** A state badge for a KFP run state or a weir phase. */
export function StateBadge({ state }: { state: RunState | Phase | string | undefined }) {
  if (!state) return null;
  const cls = runStateClass[state] ?? state.toLowerCase();
  return (
    <span className={`badge state-${cls}`} data-state={state}>
      {state.toLowerCase()}
    </span>
  );
}

export function ErrorBanner({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="error-banner">
      <div>
        {title && <strong>{title}: </strong>}
        <span className="banner-msg">{errorMessage(error)}</span>
      </div>
      {onRetry && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: ReactNode; kind?: 'info' | 'warn' | 'ok' }) {
  return (
    <div className={`banner banner-${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite" data-testid="loading">
      <span className="spinner" aria-hidden />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** The part of a usePaged list the pager shows and drives. */
export interface PagedList {
  data?: { total: number };
  page: number;
  hasNext: boolean;
  goPrev: () => void;
  goNext: () => void;
}

/** Previous / next over a token-paged list, with its size and page size; nothing until the first page arrived. */
export function Pager({
  list,
  pageSize,
  onPageSize,
}: {
  list: PagedList;
  pageSize: number;
  onPageSize?: (n: number) => void;
}) {
  const { data, page, hasNext, goPrev: onPrev, goNext: onNext } = list;
  if (!data) return null;
  const total = data.total;
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted">
        {total} item{total === 1 ? '' : 's'}
      </span>
      {onPageSize && (
        <label className="inline">
          Per page{' '}
          <select value={pageSize} onChange={(e) => onPageSize(Number(e.target.value))}>
            {[10, 20, 50, 100].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      )}
      <button type="button" className="btn btn-small" onClick={onPrev} disabled={page === 0} data-testid="page-prev">
        ‹ Previous
      </button>
      <span className="muted">page {page + 1}</span>
      <button type="button" className="btn btn-small" onClick={onNext} disabled={!hasNext} data-testid="page-next">
        Next ›
      </button>
    </nav>
  );
}

/** A button that runs an action, showing progress and errors. */
export function ActionButton({
  onAction,
  children,
  className = 'btn',
  confirm,
  disabled,
  testid,
  title,
}: {
  onAction: () => Promise<unknown>;
  children: ReactNode;
  className?: string;
  confirm?: string;
  disabled?: boolean;
  testid?: string;
  title?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  return (
    <span className="action">
      <button
        type="button"
        className={className}
        disabled={disabled || busy}
        data-testid={testid}
        title={title}
        onClick={async () => {
          if (confirm && !window.confirm(confirm)) return;
          setBusy(true);
          setError(undefined);
          try {
            await onAction();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? '…' : children}
      </button>
      {error !== undefined && (
        <span className="action-error" role="alert" data-testid="error-banner">
          {errorMessage(error)}
        </span>
      )}
    </span>
  );
}

export function KeyValue({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows
        .filter(([, v]) => v !== undefined && v !== null && v !== '')
        .map(([k, v]) => (
          <div key={k} className="kv-row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
    </dl>
  );
}

/** A usePaged list as PagedTable needs it. */
export interface PagedItems<T> extends PagedList {
  data?: { items: T[]; total: number };
  loading: boolean;
  error: unknown;
  reload: () => void;
}

/**
 * A token-paged list shown as a table: its error (with a retry), a spinner
 * until the first page arrived, the empty message, the table whose body
 * rows renders, and the pager.
 */
export function PagedTable<T>({
  list,
  pageSize,
  onPageSize,
  empty,
  testId,
  head,
  rows,
}: {
  list: PagedItems<T>;
  pageSize: number;
  onPageSize: (n: number) => void;
  empty: ReactNode;
  testId: string;
  head: ReactNode;
  rows: (items: T[]) => ReactNode;
}) {
  const items = list.data?.items;
  return (
    <>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {list.loading && !list.data ? (
        <Loading />
      ) : items?.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        items && (
          <div className="table-wrap">
            <table className="table" data-testid={testId}>
              <thead>
                <tr>{head}</tr>
              </thead>
              <tbody>{rows(items)}</tbody>
            </table>
          </div>
        )
      )}
      <Pager list={list} pageSize={pageSize} onPageSize={onPageSize} />
    </>
  );
}
