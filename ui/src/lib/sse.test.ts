import { describe, expect, it } from 'vitest';
import { SSEParser } from './sse';

describe('SSEParser', () => {
  it('parses events split across chunks', () => {
    const p = new SSEParser();
    const a = p.feed('retry: 2000\n: subscribed\n\nevent: task\nda');
    expect(a.retry).toBe(2000);
    expect(a.comments).toEqual(['subscribed']);
    expect(a.messages).toEqual([]);
    const b = p.feed('ta: {"task":"a"}\n\nevent: resync\ndata: {}\n\n: keep-alive\n\n');
    expect(b.messages).toEqual([
      { event: 'task', data: '{"task":"a"}' },
      { event: 'resync', data: '{}' },
    ]);
    expect(b.comments).toEqual(['keep-alive']);
  });
  it('handles CRLF and multi-line data', () => {
    const p = new SSEParser();
    const r = p.feed('data: one\r\ndata: two\r\n\r\n');
    expect(r.messages).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});
