import { useCallback, useEffect, useState } from 'react';
import { useAsync } from './useAsync';

export interface Page<T> {
  items: T[];
  next: string;
  total: number;
}

/**
 * A token-paged list: keeps the tokens of the pages seen so that
 * "previous" works; starts again from the first page when deps change.
 */
export function usePaged<T>(load: (token: string, signal: AbortSignal) => Promise<Page<T>>, deps: unknown[]) {
  const [tokens, setTokens] = useState<string[]>(['']);
  const [page, setPage] = useState(0);
  const depKey = JSON.stringify(deps);
  useEffect(() => {
    setTokens(['']);
    setPage(0);
  }, [depKey]);
  const token = tokens[page] ?? '';
  const state = useAsync((signal) => load(token, signal), [depKey, token]);
  const next = state.data?.next ?? '';
  const goNext = useCallback(() => {
    if (!next) return;
    setTokens((ts) => [...ts.slice(0, page + 1), next]);
    setPage((p) => p + 1);
  }, [next, page]);
  const goPrev = useCallback(() => setPage((p) => Math.max(0, p - 1)), []);
  return { ...state, page, hasNext: !!next, goNext, goPrev };
}

/** A value that follows another after it stopped changing for ms. */
export function useDebounced<T>(value: T, ms = 300): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
