import { createContext, useContext, useSyncExternalStore } from 'react';
import type { GraphModel } from './model';
import type { Counts, RunStore, TaskLive } from './runStore';

const noop = () => () => {};

export function useTaskLive(store: RunStore | null, path: string): TaskLive | undefined {
  return useSyncExternalStore(
    store ? (cb) => store.subscribe(path, cb) : noop,
    () => store?.state(path),
  );
}

export function useChildCounts(store: RunStore | null, path: string): Counts | undefined {
  return useSyncExternalStore(
    store ? (cb) => store.subscribe(`counts:${path}`, cb) : noop,
    () => store?.childCounts(path),
  );
}

/** A task as the last graph summary had it (re-renders with every summary). */
export function useTaskBrief(store: RunStore | null, path: string) {
  return useSyncExternalStore(
    store ? (cb) => store.subscribe(`task:${path}`, cb) : noop,
    () => store?.task(path),
  );
}

export interface GraphCtx {
  model: GraphModel;
  store: RunStore | null;
  toggle: (path: string) => void;
  showIteration: (loop: string, iteration: number) => void;
}

export const GraphContext = createContext<GraphCtx | null>(null);

export function useGraphContext(): GraphCtx {
  const c = useContext(GraphContext);
  if (!c) throw new Error('graph context missing');
  return c;
}
