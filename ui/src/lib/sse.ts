// Server-sent events over fetch, so that the bearer token can be sent
// (EventSource cannot set headers). The parser is pure and incremental.

import { ApiError, apiFetch } from '../api/client';
import { onPageLife, pageShown } from './pageLife';

export interface SSEMessage {
  /** The event name ("message" when the stream gave none). */
  event: string;
  data: string;
}

export interface SSEParseResult {
  messages: SSEMessage[];
  /** Comment lines (without the colon), e.g. "subscribed". */
  comments: string[];
  /** The last retry interval the stream asked for, in ms. */
  retry?: number;
}

/** An incremental text/event-stream parser: feed it chunks as they arrive. */
export class SSEParser {
  private buf = '';
  private event = '';
  private data: string[] = [];

  feed(chunk: string): SSEParseResult {
    const out: SSEParseResult = { messages: [], comments: [] };
    const buf = this.buf + chunk;
    let start = 0;
    for (;;) {
      let nl = -1;
      for (let i = start; i < buf.length; i++) {
        const c = buf.charCodeAt(i);
        if (c === 10 || c === 13) {
          nl = i;
          break;
        }
      }
      if (nl < 0) break;
      // A lone \r at the end may be the first half of \r\n: wait for more.
      if (buf.charCodeAt(nl) === 13 && nl + 1 === buf.length) break;
      const sepLen = buf.charCodeAt(nl) === 13 && buf.charCodeAt(nl + 1) === 10 ? 2 : 1;
      this.line(buf.slice(start, nl), out);
      start = nl + sepLen;
    }
    this.buf = buf.slice(start);
    return out;
  }

  private line(line: string, out: SSEParseResult) {
    if (line === '') {
      if (this.data.length) out.messages.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) {
      out.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'retry':
        if (/^\d+$/.test(value)) out.retry = Number(value);
        break;
    }
  }
}

export interface StreamHandlers {
  /** The stream is subscribed (": subscribed" seen): fetch the current state now. */
  onOpen?: () => void;
  onMessage: (m: SSEMessage) => void;
  /** The stream failed; it is retried after the server's retry interval. */
  onError?: (err: unknown) => void;
}

/**
 * Opens an event stream and keeps it open (reconnecting after failures)
 * until the returned function is called. While the page is hidden in the
 * back/forward cache the stream is closed (lib/pageLife.ts); it opens again
 * when the page is shown, and onOpen then says to fetch the current state.
 */
export function openEventStream(url: string, h: StreamHandlers): () => void {
  let ctrl: AbortController | undefined;
  let retry = 2000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const connect = async () => {
    timer = undefined;
    const c = (ctrl = new AbortController());
    const parser = new SSEParser();
    try {
      const resp = await apiFetch(url, { signal: c.signal, headers: { Accept: 'text/event-stream' } });
      if (!resp.ok || !resp.body) throw new ApiError(`event stream: ${resp.status} ${resp.statusText}`, resp.status);
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let opened = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const r = parser.feed(value);
        if (r.retry) retry = r.retry;
        if (!opened && r.comments.includes('subscribed')) {
          opened = true;
          h.onOpen?.();
        }
        for (const m of r.messages) h.onMessage(m);
      }
    } catch (err) {
      if (stopped || c.signal.aborted) return;
      h.onError?.(err);
      // A stream that cannot exist (no such run) is not tried again.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) return;
    }
    if (!stopped && !c.signal.aborted) timer = setTimeout(connect, retry);
  };
  const close = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    ctrl?.abort();
  };
  const unsubscribe = onPageLife(() => {
    if (stopped) return;
    close();
    if (pageShown()) void connect();
  });
  if (pageShown()) void connect();
  return () => {
    stopped = true;
    unsubscribe();
    close();
  };
}
