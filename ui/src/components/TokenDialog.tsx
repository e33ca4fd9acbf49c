import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { answerTokenRequest, currentTokenRequest, subscribeTokenRequest } from '../api/auth';

/** Asks for the server's bearer token when a request was refused with 401. */
export function TokenDialog() {
  const req = useSyncExternalStore(subscribeTokenRequest, currentTokenRequest);
  const [token, setToken] = useState('');
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (req && !d.open) {
      setToken('');
      if (typeof d.showModal === 'function') d.showModal();
      else d.setAttribute('open', '');
    } else if (!req && d.open) d.close();
  }, [req]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="token-title"
      data-testid="token-dialog"
      onCancel={(e) => {
        e.preventDefault();
        answerTokenRequest(null);
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) answerTokenRequest(token);
        }}
      >
        <h2 id="token-title">Sign in to weir</h2>
        <p>
          {req?.rejected ? 'The stored token was refused. ' : ''}This server needs a bearer token (
          <code>--auth-token</code>). It is kept in this browser only.
        </p>
        {req?.reason && <p className="muted">Server: {req.reason}</p>}
        <label className="field">
          <span>Token</span>
          <input
            type="password"
            autoComplete="current-password"
            autoFocus
            value={token}
            onChange={(e) => setToken(e.target.value)}
            data-testid="token-input"
          />
        </label>
        <div className="row-actions">
          <button type="button" className="btn" onClick={() => answerTokenRequest(null)}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!token.trim()} data-testid="token-submit">
            Sign in
          </button>
        </div>
      </form>
    </dialog>
  );
}
