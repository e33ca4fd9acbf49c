// Layout of a visible graph: each expanded group is laid out on its own
// with dagre (its size then counts as one node of its parent), so the work
// is per group and memoised by the group's structure.

import { Graph, layout as dagreLayout } from '@dagrejs/dagre';
import type { VisibleNode, VisibleType } from './model';

export const SIZES = {
  task: { w: 184, h: 50 },
  group: { w: 204, h: 78 },
  loop: { w: 224, h: 100 },
  pad: 12,
  header: 38,
  /** An expanded loop's header also holds the iteration picker. */
  loopHeader: 68,
  gapX: 28,
  gapY: 44,
};

/** Containers with more children than this are laid out as a grid, not by dagre. */
export const GRID_LIMIT = 400;

export interface PlacedNode {
  id: string;
  type: VisibleType;
  expanded: boolean;
  iteration?: number;
  /** Relative to the parent group (absolute for top-level nodes). */
  x: number;
  y: number;
  width: number;
  height: number;
  parentId?: string;
  depth: number;
}

export interface PlacedEdge {
  id: string;
  source: string;
  target: string;
}

export interface GraphLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

interface Box {
  w: number;
  h: number;
}

interface ContainerLayout {
  width: number;
  height: number;
  pos: Map<string, { x: number; y: number }>;
}

const cache = new Map<string, ContainerLayout>();
const CACHE_MAX = 300;

function remember(key: string, v: ContainerLayout) {
  if (cache.size >= CACHE_MAX) {
    const first = cache.keys().next().value;
    if (first !== undefined) cache.delete(first);
  }
  cache.set(key, v);
}

/** Lays out a container's children, given their sizes. */
function placeChildren(children: { id: string; box: Box }[], edges: [string, string][]): ContainerLayout {
  const key = JSON.stringify([children.map((c) => [c.id, c.box.w, c.box.h]), edges]);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let out: ContainerLayout;
  if (children.length === 0) {
    out = { width: SIZES.task.w, height: 24, pos: new Map() };
  } else if (children.length > GRID_LIMIT) {
    out = grid(children);
  } else {
    const g = new Graph();
    g.setGraph({ rankdir: 'TB', nodesep: SIZES.gapX, ranksep: SIZES.gapY, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const c of children) g.setNode(c.id, { width: c.box.w, height: c.box.h });
    for (const [s, t] of edges) g.setEdge(s, t);
    dagreLayout(g);
    const pos = new Map<string, { x: number; y: number }>();
    let maxX = 0;
    let maxY = 0;
    for (const c of children) {
      const n = g.node(c.id) as { x: number; y: number };
      const x = n.x - c.box.w / 2;
      const y = n.y - c.box.h / 2;
      pos.set(c.id, { x, y });
      maxX = Math.max(maxX, x + c.box.w);
      maxY = Math.max(maxY, y + c.box.h);
    }
    out = { width: maxX, height: maxY, pos };
  }
  remember(key, out);
  return out;
}

function grid(children: { id: string; box: Box }[]): ContainerLayout {
  const cols = Math.ceil(Math.sqrt(children.length * 2));
  const colW = Math.max(...children.map((c) => c.box.w)) + SIZES.gapX;
  const pos = new Map<string, { x: number; y: number }>();
  let y = 0;
  let rowH = 0;
  let col = 0;
  let width = 0;
  for (const c of children) {
    if (col === cols) {
      col = 0;
      y += rowH + SIZES.gapY / 2;
      rowH = 0;
    }
    pos.set(c.id, { x: col * colW, y });
    width = Math.max(width, col * colW + c.box.w);
    rowH = Math.max(rowH, c.box.h);
    col++;
  }
  return { width, height: y + rowH, pos };
}

function headerOf(t: VisibleType): number {
  return t === 'loop' ? SIZES.loopHeader : SIZES.header;
}

interface Measured {
  node: VisibleNode;
  box: Box;
  inner?: { layout: ContainerLayout; children: Measured[] };
}

function measure(n: VisibleNode): Measured {
  if (!n.expanded || !n.children) {
    const s = n.type === 'task' ? SIZES.task : n.type === 'loop' ? SIZES.loop : SIZES.group;
    return { node: n, box: { w: s.w, h: s.h } };
  }
  const children = n.children.map(measure);
  const layout = placeChildren(
    children.map((c) => ({ id: c.node.id, box: c.box })),
    n.edges ?? [],
  );
  const minW = n.type === 'loop' ? SIZES.loop.w + 60 : SIZES.group.w;
  return {
    node: n,
    box: { w: Math.max(minW, layout.width + 2 * SIZES.pad), h: layout.height + headerOf(n.type) + SIZES.pad },
    inner: { layout, children },
  };
}

/** Lays out a visible tree (its root is not drawn). */
export function layoutGraph(root: VisibleNode): GraphLayout {
  const nodes: PlacedNode[] = [];
  const edges: PlacedEdge[] = [];
  const top = measure(root);
  const emit = (m: Measured, parentId: string | undefined, depth: number) => {
    if (!m.inner) return;
    const offX = parentId === undefined ? 0 : SIZES.pad;
    const offY = parentId === undefined ? 0 : headerOf(m.node.type);
    // Center the children in a group wider than they need.
    const extra = parentId === undefined ? 0 : Math.max(0, (m.box.w - 2 * SIZES.pad - m.inner.layout.width) / 2);
    for (const c of m.inner.children) {
      const p = m.inner.layout.pos.get(c.node.id)!;
      nodes.push({
        id: c.node.id,
        type: c.node.type,
        expanded: c.node.expanded,
        iteration: c.node.iteration,
        x: p.x + offX + extra,
        y: p.y + offY,
        width: c.box.w,
        height: c.box.h,
        parentId,
        depth,
      });
      emit(c, c.node.id, depth + 1);
    }
    for (const [s, t] of m.node.edges ?? []) edges.push({ id: `${s}->${t}`, source: s, target: t });
  };
  emit(top, undefined, 0);
  return { nodes, edges, width: top.inner?.layout.width ?? 0, height: top.inner?.layout.height ?? 0 };
}
