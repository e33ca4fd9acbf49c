import { describe, expect, it } from 'vitest';
import type { Phase } from '../api/types';
import { failedTask } from './failure';

const t = (name: string, state: Phase) => ({ name, state });

describe('failedTask', () => {
  it('is undefined when nothing failed', () => {
    expect(failedTask([])).toBeUndefined();
    expect(failedTask([t('a', 'succeeded'), t('b', 'skipped')])).toBeUndefined();
  });
  it('names the first failed task', () => {
    expect(failedTask([t('a', 'succeeded'), t('b', 'failed'), t('c', 'failed')])).toBe('b');
  });
  it('names the step inside a failed group, not the group', () => {
    const tasks = [
      t('loop', 'failed'),
      t('loop/0', 'succeeded'),
      t('loop/0/step', 'succeeded'),
      t('loop/1', 'failed'),
      t('loop/1/step', 'failed'),
      t('next', 'skipped'),
    ];
    expect(failedTask(tasks)).toBe('loop/1/step');
  });
  it('does not take a sibling with a common prefix for a child', () => {
    expect(failedTask([t('a', 'failed'), t('ab/x', 'failed')])).toBe('a');
  });
});
