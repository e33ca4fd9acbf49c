import { useEffect, useRef, useState } from 'react';
import { apiFetch, ApiError, errorMessage } from '../api/client';
import { getToken } from '../api/auth';
import { logsURL } from '../api/endpoints';
import { usePageShown } from '../lib/pageLife';

const MAX_CHARS = 2_000_000;

/**
 * A task attempt's log. While the attempt runs the log is followed
 * (follow=true) and the view sticks to the bottom unless scrolled up.
 */
export function LogView({ runId, task, attempt, follow }: { runId: string; task: string; attempt?: number; follow: boolean }) {
  const [text, setText] = useState('');
  const [cut, setCut] = useState(false);
  const [status, setStatus] = useState<'loading' | 'streaming' | 'done' | 'error'>('loading');
  const [error, setError] = useState<string | null>(null);
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  // Not while the page is hidden in the back/forward cache: a followed
  // log holds a connection (lib/pageLife.ts).
  const shown = usePageShown();
  useEffect(() => {
    if (!shown) return;
    const ctrl = new AbortController();
    let buf = '';
    let pending = '';
    let frame = 0;
    const flush = () => {
      frame = 0;
      if (!pending) return;
      buf += pending;
      pending = '';
      if (buf.length > MAX_CHARS) {
        buf = buf.slice(buf.length - MAX_CHARS);
        setCut(true);
      }
      setText(buf);
    };
    setText('');
    setCut(false);
    setError(null);
    setStatus('loading');
    stick.current = true;
    (async () => {
      try {
        const resp = await apiFetch(logsURL(runId, task, { attempt, follow }), { signal: ctrl.signal });
        if (!resp.ok) {
          const body = await resp.text();
          let msg = body;
          try {
            msg = (JSON.parse(body) as { message?: string }).message ?? body;
          } catch {
            // plain text
          }
          throw new ApiError(msg, resp.status);
        }
        setStatus(follow ? 'streaming' : 'loading');
        const reader = resp.body!.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          pending += value;
          if (!frame) frame = requestAnimationFrame(flush);
        }
        if (frame) cancelAnimationFrame(frame);
        flush();
        setStatus('done');
      } catch (e) {
        if (ctrl.signal.aborted) return;
        setError(e instanceof ApiError && e.status === 404 ? `No log: ${e.message}` : errorMessage(e));
        setStatus('error');
      }
    })();
    return () => {
      ctrl.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [runId, task, attempt, follow, shown]);

  useEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <div className="logs" data-testid="logs-panel" data-status={status}>
      <div className="logs-head">
        <span className="muted small">
          {status === 'streaming' ? (
            <>
              <span className="live-dot" aria-hidden /> following the log
            </>
          ) : status === 'loading' ? (
            'loading…'
          ) : status === 'done' ? (
            `${text.length ? text.split('\n').length - (text.endsWith('\n') ? 1 : 0) : 0} lines`
          ) : null}
          {cut && ' · earlier output not shown'}
        </span>
        {!getToken() && (
          <a className="small" href={logsURL(runId, task, { attempt })} target="_blank" rel="noreferrer">
            raw
          </a>
        )}
      </div>
      {error ? (
        <p className="muted" role="status">
          {error}
        </p>
      ) : (
        <pre
          ref={pre}
          className="log-text"
          tabIndex={0}
          aria-label="Log output"
          onScroll={(e) => {
            const el = e.currentTarget;
            stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
        >
          {text || (status === 'done' ? '(empty log)' : status === 'streaming' ? 'waiting for output…' : '')}
        </pre>
      )}
    </div>
  );
}
