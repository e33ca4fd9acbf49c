import { describe, expect, it } from 'vitest';
import { rowsOf } from './compare';

describe('rowsOf', () => {
  it('marks the rows whose values differ', () => {
    const rows = rowsOf('Parameters', [{ a: '1', b: '2' }, { a: '1', b: '3', c: 'x' }]);
    expect(rows.map((r) => [r.key, r.differs])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
    ]);
    expect(rows[2].values).toEqual([undefined, 'x']);
  });
});
