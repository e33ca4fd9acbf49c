// The bearer token the API may ask for. It is kept in localStorage; when a
// request is refused with 401 the interface asks for a token (TokenDialog)
// and retries.

const KEY = 'weir.token';

type Listener = () => void;

export interface TokenRequest {
  /** Why the token is asked for (the server's message). */
  reason: string;
  /** Whether a stored token was refused. */
  rejected: boolean;
}

let pending: { request: TokenRequest; waiters: ((ok: boolean) => void)[] } | null = null;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function getToken(): string {
  return storage()?.getItem(KEY) ?? '';
}

export function setToken(token: string): void {
  const s = storage();
  if (!s) return;
  if (token) s.setItem(KEY, token);
  else s.removeItem(KEY);
}

export function authHeaders(): Record<string, string> {
  const t = getToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** The token request being shown, if any. */
export function currentTokenRequest(): TokenRequest | null {
  return pending?.request ?? null;
}

export function subscribeTokenRequest(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function emit() {
  for (const l of listeners) l();
}

/**
 * Asks for a token; resolves true once one was entered (and stored), false
 * when the person declined. Concurrent requests share one prompt.
 */
export function requestToken(reason: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!pending) {
      pending = { request: { reason, rejected: getToken() !== '' }, waiters: [] };
      emit();
    }
    pending.waiters.push(resolve);
  });
}

/** Answers the current token request. */
export function answerTokenRequest(token: string | null): void {
  if (!pending) return;
  const waiters = pending.waiters;
  pending = null;
  if (token !== null) setToken(token.trim());
  emit();
  for (const w of waiters) w(token !== null);
}
