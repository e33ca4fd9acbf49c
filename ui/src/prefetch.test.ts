import { describe, expect, it } from 'vitest';
import { runIdOfPath } from './prefetch';

describe('runIdOfPath', () => {
  it('finds the run of a run page', () => {
    expect(runIdOfPath('/runs/abc-123')).toBe('abc-123');
    expect(runIdOfPath('/runs/abc-123/')).toBe('abc-123');
    expect(runIdOfPath('/runs/a%20b')).toBe('a b');
  });
  it('ignores every other page', () => {
    expect(runIdOfPath('/runs')).toBeUndefined();
    expect(runIdOfPath('/runs/')).toBeUndefined();
    expect(runIdOfPath('/runs/new')).toBeUndefined();
    expect(runIdOfPath('/runs/abc/extra')).toBeUndefined();
    expect(runIdOfPath('/pipelines/abc')).toBeUndefined();
    expect(runIdOfPath('/runs/%E0%A4%A')).toBeUndefined();
  });
});
