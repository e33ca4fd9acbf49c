import { authHeaders, requestToken } from './auth';
import type { Status } from './types';

/** An error answered by the server (a google.rpc.Status) or the network. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: number | undefined;
  constructor(message: string, status: number, code?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The message to show for any error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

async function readError(resp: Response): Promise<ApiError> {
  const text = await resp.text().catch(() => '');
  let message = text.trim() || `${resp.status} ${resp.statusText}`;
  let code: number | undefined;
  try {
    const st = JSON.parse(text) as Partial<Status>;
    if (st && typeof st.message === 'string' && st.message) message = st.message;
    if (st && typeof st.code === 'number') code = st.code;
  } catch {
    // not JSON: the plain text is the message
  }
  return new ApiError(message, resp.status, code);
}

/**
 * fetch with the stored bearer token. A 401 asks for a token and retries
 * until the person gives a working one or declines.
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(authHeaders())) headers.set(k, v);
    let resp: Response;
    try {
      resp = await fetch(path, { ...init, headers });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new ApiError(`cannot reach the server: ${errorMessage(err)}`, 0);
    }
    if (resp.status !== 401) return resp;
    const e = await readError(resp);
    const ok = await requestToken(e.message);
    if (!ok) throw e;
  }
}

/** A JSON request; a non-2xx answer throws an ApiError with the server's message. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const resp = await apiFetch(path, init);
  if (!resp.ok) throw await readError(resp);
  const text = await resp.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export function postJSON<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return api<T>(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

/** Query string from the set values of q. */
export function query(q: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
