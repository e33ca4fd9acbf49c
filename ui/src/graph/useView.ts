import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { defaultExpanded, revealPath, type GraphModel, type ViewState } from './model';

/** Which groups are expanded and which loop iterations are shown. */
export function useGraphView(model: GraphModel | null) {
  const [view, setView] = useState<ViewState>({ expanded: new Set(), iteration: new Map() });
  const [fitKey, setFitKey] = useState(0);
  const initialized = useRef(false);
  useEffect(() => {
    if (model && !initialized.current && model.root.children.length > 0) {
      initialized.current = true;
      setView({ expanded: defaultExpanded(model), iteration: new Map() });
    }
  }, [model]);

  const toggle = useCallback((path: string) => {
    setView((v) => {
      const expanded = new Set(v.expanded);
      if (expanded.has(path)) expanded.delete(path);
      else expanded.add(path);
      return { ...v, expanded };
    });
    setFitKey((k) => k + 1);
  }, []);

  const showIteration = useCallback((loop: string, i: number) => {
    setView((v) => {
      if (v.iteration.get(loop) === i) return v;
      const iteration = new Map(v.iteration);
      iteration.set(loop, i);
      return { ...v, iteration };
    });
  }, []);

  /** Expands what is needed for a task to be drawn. */
  const reveal = useCallback(
    (path: string) => {
      if (!model) return;
      const r = revealPath(model, path);
      setView((v) => {
        const missing = r.expand.filter((p) => !v.expanded.has(p));
        const iterChange = r.iterations.filter(([l, i]) => v.iteration.get(l) !== i);
        if (!missing.length && !iterChange.length) return v;
        const expanded = new Set(v.expanded);
        for (const p of missing) expanded.add(p);
        const iteration = new Map(v.iteration);
        for (const [l, i] of iterChange) iteration.set(l, i);
        return { expanded, iteration };
      });
    },
    [model],
  );

  return useMemo(() => ({ view, toggle, showIteration, reveal, fitKey: String(fitKey) }), [view, toggle, showIteration, reveal, fitKey]);
}
