// Whether the page is shown, or kept hidden in the browser's back/forward
// cache (pagehide, then pageshow when the person comes back).
//
// A hidden page must not hold a long request (an event stream, a followed
// log): the browser gives an origin few connections (six over HTTP/1.1),
// and cached pages that each hold one would leave none for the pages in
// use. Streams close when the page is hidden and open again when it is
// shown.

import { useSyncExternalStore } from 'react';

let shown = true;
const listeners = new Set<() => void>();

function set(v: boolean) {
  if (shown === v) return;
  shown = v;
  for (const l of [...listeners]) l();
}

if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => set(false));
  window.addEventListener('pageshow', () => set(true));
}

export function pageShown(): boolean {
  return shown;
}

/** Calls l whenever the page is hidden or shown again. */
export function onPageLife(l: () => void): () => void {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

export function usePageShown(): boolean {
  return useSyncExternalStore(onPageLife, pageShown);
}
