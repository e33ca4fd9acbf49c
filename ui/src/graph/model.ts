// The graph model of a pipeline or a run: a tree of tasks by path, built
// from the pipeline spec (what the pipeline declares, with the dependencies
// between sibling tasks) and from a run's tasks (what exists, including
// loop iterations). Pure: no React, no DOM.

import type { ComponentSpec, PipelineSpec, SpecTask, TaskKind } from '../api/types';

export type NodeKind = TaskKind | 'root';

/** What a DAG task is for, as far as the spec tells. */
export type Role = 'condition' | 'branches' | 'exit-handler' | 'pipeline' | 'loop' | 'task';

export interface GNode {
  /** The task's path in the run ('' for the root). */
  path: string;
  /** The last segment of the path. */
  name: string;
  kind: NodeKind;
  role: Role;
  /** Names of the children (for a loop: its iteration numbers), in order. */
  children: string[];
  /** Names of the sibling tasks this task depends on. */
  deps: string[];
  /** The condition of a condition DAG. */
  condition?: string;
  /** The trigger strategy (e.g. ALL_UPSTREAM_TASKS_COMPLETED for an exit task). */
  strategy?: string;
  /** The component a DAG or loop runs (for a loop, the body of each iteration). */
  component?: string;
  /** Declared by the spec. */
  inSpec: boolean;
  /** Exists in the run. */
  inRun: boolean;
}

export interface GraphModel {
  nodes: Map<string, GNode>;
  root: GNode;
}

export interface RunTaskRef {
  name: string;
  kind: TaskKind;
}

export function joinPath(parent: string, name: string): string {
  return parent ? `${parent}/${name}` : name;
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Whether a path segment names a loop iteration. */
export function isIndex(seg: string): boolean {
  return /^\d+$/.test(seg);
}

function specTaskKind(spec: PipelineSpec, t: SpecTask): { kind: TaskKind; comp?: ComponentSpec } {
  const compName = t.componentRef?.name ?? '';
  const comp = spec.components?.[compName];
  if (t.parameterIterator || t.artifactIterator) return { kind: 'loop', comp };
  if (comp?.dag) return { kind: 'dag', comp };
  const label = comp?.executorLabel;
  if (label && spec.deploymentSpec?.executors?.[label]?.importer) return { kind: 'importer', comp };
  return { kind: 'container', comp };
}

function roleOf(name: string, t: SpecTask | undefined, kind: NodeKind): Role {
  if (kind === 'loop') return 'loop';
  if (kind !== 'dag') return 'task';
  if (t?.triggerPolicy?.condition) return 'condition';
  if (/^exit-handler-\d+$/.test(name)) return 'exit-handler';
  if (/^condition-branches-\d+$/.test(name)) return 'branches';
  if (/^condition-\d+$/.test(name)) return 'condition';
  return 'pipeline';
}

class Builder {
  nodes = new Map<string, GNode>();
  childSets = new Map<string, Set<string>>();
  root: GNode;

  constructor(private spec: PipelineSpec | null) {
    this.root = this.add({ path: '', name: '', kind: 'root', role: 'pipeline', children: [], deps: [], inSpec: true, inRun: true });
  }

  add(n: GNode): GNode {
    this.nodes.set(n.path, n);
    this.childSets.set(n.path, new Set(n.children));
    return n;
  }

  link(parent: GNode, name: string) {
    const set = this.childSets.get(parent.path)!;
    if (!set.has(name)) {
      set.add(name);
      parent.children.push(name);
    }
  }

  /** Adds the tasks of a DAG component under a container node. */
  addDag(container: GNode, comp: ComponentSpec | undefined, depth = 0) {
    const spec = this.spec;
    if (!spec || !comp?.dag?.tasks || depth > 64) return;
    for (const [name, t] of Object.entries(comp.dag.tasks)) {
      const path = joinPath(container.path, name);
      const { kind, comp: child } = specTaskKind(spec, t);
      let node = this.nodes.get(path);
      if (!node) {
        node = this.add({
          path,
          name,
          kind,
          role: roleOf(name, t, kind),
          children: [],
          deps: [...(t.dependentTasks ?? [])],
          condition: t.triggerPolicy?.condition,
          strategy: t.triggerPolicy?.strategy,
          component: t.componentRef?.name,
          inSpec: true,
          inRun: false,
        });
      }
      this.link(container, name);
      if (kind === 'dag') this.addDag(node, child, depth + 1);
    }
  }

  /** The component an iteration of a loop runs. */
  bodyOf(loop: GNode): ComponentSpec | undefined {
    return loop.component ? this.spec?.components?.[loop.component] : undefined;
  }

  /** Makes sure a run task and its ancestors exist. */
  ensure(path: string, kind: TaskKind | undefined): GNode {
    const existing = this.nodes.get(path);
    if (existing) {
      if (kind) {
        existing.kind = kind;
        existing.inRun = true;
        if (existing.role === 'task' && (kind === 'dag' || kind === 'loop')) existing.role = roleOf(existing.name, undefined, kind);
      }
      return existing;
    }
    const parent = this.ensure(parentPath(path), undefined);
    const name = baseName(path);
    const k: TaskKind = kind ?? (parent.kind === 'loop' && isIndex(name) ? 'iteration' : 'dag');
    const node = this.add({
      path,
      name,
      kind: k,
      role: k === 'iteration' ? 'pipeline' : roleOf(name, undefined, k),
      children: [],
      deps: [],
      inSpec: false,
      inRun: kind !== undefined,
    });
    this.link(parent, name);
    if (k === 'iteration') this.addDag(node, this.bodyOf(parent));
    return node;
  }

  finish(): GraphModel {
    for (const n of this.nodes.values()) {
      if (n.kind === 'loop') {
        // Iterations in numeric order; a loop that has none yet shows the
        // body of its first one, not part of the run.
        n.children.sort((a, b) => Number(a) - Number(b));
        if (n.children.length === 0 && this.bodyOf(n)) {
          const it = this.add({
            path: joinPath(n.path, '0'),
            name: '0',
            kind: 'iteration',
            role: 'pipeline',
            children: [],
            deps: [],
            inSpec: true,
            inRun: false,
          });
          this.link(n, '0');
          this.addDag(it, this.bodyOf(n));
        }
      }
    }
    return { nodes: this.nodes, root: this.root };
  }
}

/**
 * Builds the model from a spec (may be null) and a run's tasks (may be
 * empty: the pipeline alone).
 */
export function buildModel(spec: PipelineSpec | null, tasks: readonly RunTaskRef[] = []): GraphModel {
  const b = new Builder(spec);
  if (spec) b.addDag(b.root, spec.root);
  for (const t of tasks) b.ensure(t.name, t.kind);
  return b.finish();
}

const iterationCounts = new WeakMap<GraphModel, Map<string, number>>();

/** Iterations of a loop that exist in the run (counted once per model). */
export function runIterations(m: GraphModel, loopPath: string): number {
  let counts = iterationCounts.get(m);
  if (!counts) iterationCounts.set(m, (counts = new Map()));
  const hit = counts.get(loopPath);
  if (hit !== undefined) return hit;
  const n = m.nodes.get(loopPath);
  let c = 0;
  for (const name of n?.children ?? []) if (m.nodes.get(joinPath(loopPath, name))?.inRun) c++;
  counts.set(loopPath, c);
  return c;
}

// Visible graph: what is drawn for the current expansion.

export type VisibleType = 'task' | 'group' | 'loop';

export interface VisibleNode {
  /** The node id: the task's path. */
  id: string;
  type: VisibleType;
  expanded: boolean;
  /** For an expanded loop: the iteration shown. */
  iteration?: number;
  /** For an expanded group: its children and the edges between them. */
  children?: VisibleNode[];
  edges?: [string, string][];
}

export interface ViewState {
  /** Expanded groups and loops (paths). */
  expanded: ReadonlySet<string>;
  /** The iteration shown by each expanded loop (default: the first). */
  iteration: ReadonlyMap<string, number>;
}

function isGroup(n: GNode): boolean {
  return n.kind === 'dag' || n.kind === 'loop' || n.kind === 'iteration';
}

/** The iteration an expanded loop shows. */
export function shownIteration(loop: GNode, view: ViewState): string | undefined {
  if (loop.children.length === 0) return undefined;
  const want = view.iteration.get(loop.path);
  if (want !== undefined && loop.children.includes(String(want))) return String(want);
  return loop.children[0];
}

function containerChildren(m: GraphModel, container: GNode, view: ViewState): { children: VisibleNode[]; edges: [string, string][] } {
  const children: VisibleNode[] = [];
  const edges: [string, string][] = [];
  const names = new Set(container.children);
  for (const name of container.children) {
    const n = m.nodes.get(joinPath(container.path, name));
    if (!n) continue;
    children.push(visible(m, n, view));
    for (const d of n.deps) if (names.has(d) && d !== name) edges.push([joinPath(container.path, d), n.path]);
  }
  return { children, edges };
}

function visible(m: GraphModel, n: GNode, view: ViewState): VisibleNode {
  if (!isGroup(n)) return { id: n.path, type: 'task', expanded: false };
  const expanded = view.expanded.has(n.path);
  if (n.kind === 'loop') {
    if (!expanded) return { id: n.path, type: 'loop', expanded: false };
    const it = shownIteration(n, view);
    const itNode = it === undefined ? undefined : m.nodes.get(joinPath(n.path, it));
    if (!itNode) return { id: n.path, type: 'loop', expanded: true, children: [], edges: [] };
    return { id: n.path, type: 'loop', expanded: true, iteration: Number(it), ...containerChildren(m, itNode, view) };
  }
  if (!expanded) return { id: n.path, type: 'group', expanded: false };
  return { id: n.path, type: 'group', expanded: true, ...containerChildren(m, n, view) };
}

/** The visible tree: the root's children, with expanded groups nested. */
export function visibleGraph(m: GraphModel, view: ViewState): VisibleNode {
  return { id: '', type: 'group', expanded: true, ...containerChildren(m, m.root, view) };
}

/** Counts the nodes a visible tree draws. */
export function countVisible(v: VisibleNode): number {
  let c = 0;
  for (const ch of v.children ?? []) c += 1 + (ch.expanded ? countVisible(ch) : 0);
  return c;
}

/**
 * The groups to expand at first: DAG groups (never loops) in breadth-first
 * order while the drawing stays under budget nodes.
 */
export function defaultExpanded(m: GraphModel, budget = 60): Set<string> {
  const expanded = new Set<string>();
  let drawn = m.root.children.length;
  const queue: GNode[] = [m.root];
  while (queue.length) {
    const c = queue.shift()!;
    for (const name of c.children) {
      const n = m.nodes.get(joinPath(c.path, name));
      if (!n || n.kind !== 'dag') continue;
      if (drawn + n.children.length > budget) continue;
      expanded.add(n.path);
      drawn += n.children.length;
      queue.push(n);
    }
  }
  return expanded;
}

/** The groups and loops that must be expanded for a task to be drawn, and the iterations to show. */
export function revealPath(m: GraphModel, path: string): { expand: string[]; iterations: [string, number][] } {
  const expand: string[] = [];
  const iterations: [string, number][] = [];
  const segs = path.split('/');
  let cur = '';
  for (let i = 0; i < segs.length - 1; i++) {
    cur = joinPath(cur, segs[i]);
    const n = m.nodes.get(cur);
    if (!n) break;
    if (n.kind === 'dag' || n.kind === 'loop') expand.push(cur);
    if (n.kind === 'loop' && i + 1 < segs.length && isIndex(segs[i + 1])) {
      iterations.push([cur, Number(segs[i + 1])]);
      // Skip the iteration segment itself: the loop group shows it.
      i++;
      cur = joinPath(cur, segs[i]);
    }
  }
  return { expand, iterations };
}

/** The visible node that stands for a task (the task, or its nearest drawn ancestor). */
export function drawnAncestor(path: string, drawn: ReadonlySet<string>): string | undefined {
  let p = path;
  for (;;) {
    if (drawn.has(p)) return p;
    if (!p) return undefined;
    p = parentPath(p);
  }
}
