// Live task states of one run, kept outside React so that a state change
// re-renders only the nodes that show it (each subscribes to its own key).

import type { Phase, TaskBrief, TaskEvent } from '../api/types';
import { parentPath } from './model';

export type Counts = Partial<Record<Phase, number>>;

type Listener = () => void;

const EMPTY: Counts = Object.freeze({});

/** How long changes are batched before listeners are told. */
const FLUSH_MS = 150;

export interface TaskLive {
  state: Phase;
  attempt?: number;
  started_at?: string;
  finished_at?: string;
  created_at?: string;
  error?: string;
}

/**
 * Holds each task's state and, for every container path, the counts of its
 * direct children by state. Listeners are told per key, in batches.
 */
export class RunStore {
  private live = new Map<string, TaskLive>();
  private counts = new Map<string, Counts>();
  private tasks = new Map<string, TaskBrief>();
  private listeners = new Map<string, Set<Listener>>();
  private dirty = new Set<string>();
  private scheduled = false;

  /** Replaces everything with a fetched summary. Returns whether the set of tasks changed. */
  applySummary(sum: { tasks: readonly TaskBrief[] }): boolean {
    const before = this.tasks;
    let structureChanged = before.size !== sum.tasks.length;
    const tasks = new Map<string, TaskBrief>();
    for (const t of sum.tasks) {
      tasks.set(t.name, t);
      if (!structureChanged && !before.has(t.name)) structureChanged = true;
    }
    this.tasks = tasks;
    const oldLive = this.live;
    const oldCounts = this.counts;
    this.live = new Map();
    // Counted into fresh objects (no copy per task), then the unchanged
    // ones replaced by the old objects, which their listeners hold.
    const counts = new Map<string, Counts>();
    const count = (container: string, state: Phase) => {
      let c = counts.get(container);
      if (!c) counts.set(container, (c = {}));
      c[state] = (c[state] ?? 0) + 1;
    };
    this.counts = counts;
    for (const t of sum.tasks) {
      const prev = oldLive.get(t.name);
      // Times come from events only; keep them.
      const attempt = t.attempts || prev?.attempt;
      const error = t.error || undefined;
      const same = prev && prev.state === t.state && prev.attempt === attempt && prev.error === error;
      this.live.set(t.name, same ? prev : { ...prev, state: t.state, attempt, error });
      count(parentPath(t.name), t.state);
      if (!same) this.mark(t.name);
    }
    // Every task's summary is new; only a few are watched (a task panel).
    for (const k of this.listeners.keys()) if (k.startsWith('task:')) this.dirty.add(k);
    // Tasks known from events but not in this summary are newer than it
    // (a run's tasks never go away): keep them.
    for (const [p, l] of oldLive) {
      if (this.live.has(p)) continue;
      this.live.set(p, l);
      count(parentPath(p), l.state);
    }
    for (const [p, c] of this.counts) {
      const old = oldCounts.get(p);
      if (old && sameCounts(c, old)) this.counts.set(p, old);
      else this.mark(`counts:${p}`);
    }
    for (const p of oldCounts.keys()) if (!this.counts.has(p)) this.mark(`counts:${p}`);
    this.flushSoon();
    return structureChanged;
  }

  /**
   * Applies a task event. Returns false when the task is not known yet
   * (the summary must be fetched again to learn the new structure).
   */
  applyTaskEvent(ev: TaskEvent): boolean {
    const prev = this.live.get(ev.task);
    if (!prev) {
      // A new task: count it now; its place in the graph comes with the
      // next summary.
      this.live.set(ev.task, { state: ev.state, attempt: ev.attempt, created_at: ev.created_at, started_at: ev.started_at, finished_at: ev.finished_at, error: ev.error });
      const parent = parentPath(ev.task);
      this.bump(parent, ev.state, 1);
      this.mark(`counts:${parent}`);
      this.mark(ev.task);
      this.flushSoon();
      return false;
    }
    const next: TaskLive = {
      ...prev,
      state: ev.state,
      error: ev.error ?? prev.error,
      created_at: ev.created_at ?? prev.created_at,
      started_at: ev.started_at ?? prev.started_at,
      finished_at: ev.finished_at ?? prev.finished_at,
      attempt: ev.attempt ?? prev.attempt,
    };
    if (prev.state !== next.state) {
      const parent = parentPath(ev.task);
      this.bump(parent, prev.state, -1);
      this.bump(parent, next.state, 1);
      this.mark(`counts:${parent}`);
    }
    this.live.set(ev.task, next);
    this.mark(ev.task);
    this.flushSoon();
    return true;
  }

  private bump(container: string, state: Phase, d: number) {
    const c = { ...(this.counts.get(container) ?? {}) };
    c[state] = (c[state] ?? 0) + d;
    if (!c[state]) delete c[state];
    this.counts.set(container, c);
  }

  state(path: string): TaskLive | undefined {
    return this.live.get(path);
  }

  task(path: string): TaskBrief | undefined {
    return this.tasks.get(path);
  }

  /** Counts of a container's direct children by state. */
  childCounts(path: string): Counts {
    return this.counts.get(path) ?? EMPTY;
  }

  subscribe(key: string, l: Listener): () => void {
    let s = this.listeners.get(key);
    if (!s) this.listeners.set(key, (s = new Set()));
    s.add(l);
    return () => {
      s!.delete(l);
      if (s!.size === 0) this.listeners.delete(key);
    };
  }

  private mark(key: string) {
    if (this.listeners.has(key)) this.dirty.add(key);
  }

  private flushSoon() {
    if (this.scheduled || this.dirty.size === 0) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      const keys = [...this.dirty];
      this.dirty.clear();
      for (const k of keys) for (const l of this.listeners.get(k) ?? []) l();
    };
    // A few updates a second are plenty for people, and spare the CPU
    // when thousands of tasks change.
    setTimeout(run, FLUSH_MS);
  }
}

function sameCounts(a: Counts, b: Counts | undefined): boolean {
  if (!b) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k as Phase] === b[k as Phase]);
}
