// Side-by-side comparison of runs: pure helpers.

import type { RunSummary } from '../api/types';

export interface MetricSource {
  /** Row key: task path / output name. */
  key: string;
  artifactId: string;
}

/** The Metrics artifacts a run's container tasks output (each artifact once). */
export function metricSources(s: RunSummary): MetricSource[] {
  const seen = new Set<string>();
  const out: MetricSource[] = [];
  for (const t of s.tasks) {
    if (t.kind !== 'container') continue;
    for (const [name, list] of Object.entries(t.outputs.artifacts)) {
      for (const a of list) {
        if (a.type !== 'system.Metrics' || !a.artifact_id || seen.has(a.artifact_id)) continue;
        seen.add(a.artifact_id);
        out.push({ key: list.length > 1 ? `${t.name} / ${name}[${list.indexOf(a)}]` : `${t.name} / ${name}`, artifactId: a.artifact_id });
      }
    }
  }
  return out;
}

export interface CompareRow {
  section: string;
  key: string;
  values: (string | undefined)[];
  differs: boolean;
}

/** Rows for one section: the union of keys, a value per run. */
export function rowsOf(section: string, maps: Record<string, string>[]): CompareRow[] {
  const keys = new Set<string>();
  for (const m of maps) for (const k of Object.keys(m)) keys.add(k);
  return [...keys]
    .sort((a, b) => a.localeCompare(b))
    .map((key) => {
      const values = maps.map((m) => (key in m ? m[key] : undefined));
      const differs = values.some((v) => v !== values[0]);
      return { section, key, values, differs };
    });
}
