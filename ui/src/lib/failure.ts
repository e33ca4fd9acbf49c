// Where a failed run failed. Pure.

import type { Phase } from '../api/types';

/**
 * The task a run failed at: the first failed task (in the given order, the
 * summary's path order) with no failed task inside it, so that a failure
 * in a loop or a sub-DAG names the step that failed rather than its group.
 * Undefined when no task failed.
 */
export function failedTask(tasks: readonly { name: string; state: Phase }[]): string | undefined {
  const failed = tasks.filter((t) => t.state === 'failed').map((t) => t.name);
  // Every group that holds a failed task.
  const holders = new Set<string>();
  for (const name of failed) {
    for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) holders.add(name.slice(0, i));
  }
  return failed.find((name) => !holders.has(name));
}
