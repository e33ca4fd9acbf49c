// The first request of a run page, started by the entry script before the
// application is loaded: for a big run the server's answer is the slow
// part, and it then overlaps the loading and starting of the interface.
// The run page takes the answer (takePrefetchedGraph) instead of asking
// again; anything unusual (an error, a 401) is left to its own request.

import { authHeaders } from './api/auth';
import { runGraphURL } from './api/endpoints';
import type { RunGraph } from './api/types';

/** The run id of a run page's path (/runs/ID), else undefined. */
export function runIdOfPath(path: string): string | undefined {
  const m = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (!m) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  return id === 'new' || id === '' ? undefined : id;
}

let pending: { id: string; graph: Promise<RunGraph | null> } | null = null;

/** Starts the first request of the page at path, when it has a slow one. */
export function prefetch(path: string) {
  const id = runIdOfPath(path);
  if (id === undefined) return;
  const graph = fetch(runGraphURL(id), { headers: authHeaders() })
    .then((r) => (r.ok ? (r.json() as Promise<RunGraph>) : null))
    .catch(() => null);
  pending = { id, graph };
}

/**
 * The prefetched graph of a run, handed out once: undefined when none was
 * started for this run, null when it failed (ask again).
 */
export function takePrefetchedGraph(id: string): Promise<RunGraph | null> | undefined {
  if (!pending || pending.id !== id) return undefined;
  const { graph } = pending;
  pending = null;
  return graph;
}
