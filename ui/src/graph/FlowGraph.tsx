import {
  Background,
  Controls,
  Handle,
  MiniMap,
  Position,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  useStore,
  type Edge,
  type Node,
  type NodeChange,
  type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { PHASES, type Phase } from '../api/types';
import { GraphContext, useChildCounts, useGraphContext, useTaskLive, type GraphCtx } from './hooks';
import { layoutGraph, type PlacedNode } from './layout';
import { baseName, countVisible, joinPath, runIterations, visibleGraph, type GNode, type GraphModel, type ViewState } from './model';
import type { Counts, RunStore } from './runStore';

type NodeData = { placed: PlacedNode };
type FlowNode = Node<NodeData>;

const roleLabel: Record<string, string> = {
  condition: 'condition',
  branches: 'if / elif / else',
  'exit-handler': 'exit handler',
  pipeline: 'pipeline',
  loop: 'loop',
};

function useNode(path: string): GNode | undefined {
  return useGraphContext().model.nodes.get(path);
}

/** The state class of a node: "spec" in a pipeline's graph (no run). */
function stateOf(store: RunStore | null, live: { state: Phase } | undefined, n: GNode | undefined): string {
  if (!store) return 'spec';
  if (live) return live.state;
  return n?.inRun ? 'pending' : 'none';
}

const HiddenHandles = () => (
  <>
    <Handle type="target" position={Position.Top} isConnectable={false} className="wf-handle" />
    <Handle type="source" position={Position.Bottom} isConnectable={false} className="wf-handle" />
  </>
);

const TaskNode = memo(function TaskNode({ id, selected }: NodeProps<FlowNode>) {
  const { store } = useGraphContext();
  const n = useNode(id);
  const live = useTaskLive(store, id);
  const state = stateOf(store, live, n);
  const name = baseName(id);
  return (
    <div
      className={`wf-task state-${state}${selected ? ' is-selected' : ''}`}
      data-task={id}
      data-state={state}
      data-kind={n?.kind}
      title={`${id}${store ? ` — ${state === 'none' ? 'not started' : state}` : ''}`}
    >
      <HiddenHandles />
      <span className="wf-dot" aria-hidden />
      <div className="wf-task-text">
        <div className="wf-task-name">{name}</div>
        <div className="wf-task-sub">
          {n?.kind === 'importer' ? 'importer' : n?.strategy === 'ALL_UPSTREAM_TASKS_COMPLETED' ? 'exit task' : 'task'}
          {store ? ` · ${state === 'none' ? 'not started' : state}` : ''}
          {live?.attempt && live.attempt > 1 ? ` · attempt ${live.attempt}` : ''}
        </div>
      </div>
    </div>
  );
});

function CountsBar({ counts, total }: { counts: Counts | undefined; total: number }) {
  if (!counts || total === 0) return null;
  return (
    <div className="wf-counts" aria-label="states of the children">
      <div className="wf-bar" aria-hidden>
        {PHASES.filter((p) => counts[p]).map((p) => (
          <span key={p} className={`wf-bar-seg state-${p}`} style={{ flexGrow: counts[p] }} />
        ))}
      </div>
      <div className="wf-count-text">
        {PHASES.filter((p) => counts[p]).map((p) => (
          <span key={p} className={`wf-count state-${p}`} data-count-state={p}>
            {counts[p]} {p}
          </span>
        ))}
      </div>
    </div>
  );
}

function ToggleButton({ path, expanded, label }: { path: string; expanded: boolean; label: string }) {
  const { toggle } = useGraphContext();
  return (
    <button
      type="button"
      className="wf-toggle nodrag nopan"
      aria-expanded={expanded}
      aria-label={`${expanded ? 'Collapse' : 'Expand'} ${label}`}
      data-testid="group-toggle"
      onClick={(e) => {
        e.stopPropagation();
        toggle(path);
      }}
    >
      {expanded ? '▾' : '▸'}
    </button>
  );
}

const GroupNode = memo(function GroupNode({ id, data, selected }: NodeProps<FlowNode>) {
  const { store } = useGraphContext();
  const n = useNode(id);
  const live = useTaskLive(store, id);
  const counts = useChildCounts(store, id);
  const state = stateOf(store, live, n);
  const expanded = data.placed.expanded;
  const total = n?.children.length ?? 0;
  return (
    <div
      className={`wf-group state-${state}${expanded ? ' is-expanded' : ''}${selected ? ' is-selected' : ''}`}
      data-task={id}
      data-state={state}
      data-kind={n?.kind}
      data-group={n?.role}
    >
      <HiddenHandles />
      <div className="wf-group-head">
        <ToggleButton path={id} expanded={expanded} label={baseName(id)} />
        <span className="wf-dot" aria-hidden />
        <span className="wf-group-name" title={n?.condition ? `${id}: ${n.condition}` : id}>
          {baseName(id)}
        </span>
        <span className="wf-role">{roleLabel[n?.role ?? ''] ?? n?.kind}</span>
      </div>
      {!expanded && (
        <div className="wf-group-body">
          <span className="wf-muted">{total} task{total === 1 ? '' : 's'}</span>
          <CountsBar counts={counts} total={total} />
        </div>
      )}
    </div>
  );
});

function IterationPicker({ loop, current, count }: { loop: string; current: number; count: number }) {
  const { showIteration, store, model } = useGraphContext();
  const [text, setText] = useState(String(current));
  useEffect(() => setText(String(current)), [current]);
  const n = model.nodes.get(loop);
  const go = (i: number) => {
    if (count === 0) return;
    showIteration(loop, Math.max(0, Math.min(count - 1, i)));
  };
  const firstWith = (state: Phase) => {
    if (!n || !store) return;
    for (const name of n.children) {
      if (store.state(joinPath(loop, name))?.state === state) {
        showIteration(loop, Number(name));
        return;
      }
    }
  };
  return (
    <div className="wf-iter nodrag nopan" onClick={(e) => e.stopPropagation()}>
      <button type="button" aria-label="Previous iteration" disabled={current <= 0} onClick={() => go(current - 1)}>
        ‹
      </button>
      <label>
        <span className="sr-only">Iteration</span>
        <input
          type="number"
          min={0}
          max={Math.max(0, count - 1)}
          value={text}
          data-testid="iteration-input"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') go(Number(text));
          }}
          onBlur={() => go(Number(text))}
        />
      </label>
      <span className="wf-muted">/ {count}</span>
      <button type="button" aria-label="Next iteration" disabled={current >= count - 1} onClick={() => go(current + 1)}>
        ›
      </button>
      {store && (
        <button type="button" className="wf-link" onClick={() => firstWith('failed')} title="Show the first failed iteration">
          first failed
        </button>
      )}
    </div>
  );
}

const LoopNode = memo(function LoopNode({ id, data, selected }: NodeProps<FlowNode>) {
  const { store, model } = useGraphContext();
  const n = useNode(id);
  const live = useTaskLive(store, id);
  const counts = useChildCounts(store, id);
  const state = stateOf(store, live, n);
  const expanded = data.placed.expanded;
  // Iterations counted live (new ones are known from events before the
  // model has them).
  const counted = counts ? Object.values(counts).reduce((a, b) => a + (b ?? 0), 0) : 0;
  const iterations = store ? Math.max(counted, runIterations(model, id)) : 0;
  return (
    <div
      className={`wf-group wf-loop state-${state}${expanded ? ' is-expanded' : ''}${selected ? ' is-selected' : ''}`}
      data-task={id}
      data-state={state}
      data-kind="loop"
      data-iterations={iterations}
    >
      <HiddenHandles />
      <div className="wf-group-head">
        <ToggleButton path={id} expanded={expanded} label={baseName(id)} />
        <span className="wf-dot" aria-hidden />
        <span className="wf-group-name" title={id}>
          {baseName(id)}
        </span>
        <span className="wf-role">loop</span>
      </div>
      {expanded ? (
        <IterationPicker loop={id} current={data.placed.iteration ?? 0} count={iterations} />
      ) : (
        <div className="wf-group-body">
          {store ? (
            <>
              <span className="wf-muted">
                {iterations} iteration{iterations === 1 ? '' : 's'}
              </span>
              <CountsBar counts={counts} total={iterations} />
            </>
          ) : (
            <span className="wf-muted">runs its body for each item</span>
          )}
        </div>
      )}
    </div>
  );
});

// Own type names: React Flow styles its built-in "group" type.
const nodeTypes = { wfTask: TaskNode, wfGroup: GroupNode, wfLoop: LoopNode };
const typeName = { task: 'wfTask', group: 'wfGroup', loop: 'wfLoop' } as const;

export interface FlowGraphProps {
  model: GraphModel;
  store: RunStore | null;
  view: ViewState;
  onToggle: (path: string) => void;
  onShowIteration: (loop: string, iteration: number) => void;
  selected?: string;
  onSelect?: (path: string | undefined) => void;
  /** Changes when the graph should fit the view again. */
  fitKey?: string;
  /** A task to bring into view (when it changes). */
  focus?: string;
}

/** The smallest zoom a fit goes to: past it, the view is panned instead. */
const FIT_MIN_ZOOM = 0.55;

function Inner(props: FlowGraphProps) {
  const { model, store, view, onToggle, onShowIteration, selected, onSelect, fitKey, focus } = props;
  const visible = useMemo(() => visibleGraph(model, view), [model, view]);
  const layout = useMemo(() => layoutGraph(visible), [visible]);
  const baseNodes = useMemo<FlowNode[]>(
    () =>
      layout.nodes.map((p) => ({
        id: p.id,
        type: typeName[p.type],
        position: { x: p.x, y: p.y },
        parentId: p.parentId,
        width: p.width,
        height: p.height,
        style: { width: p.width, height: p.height },
        data: { placed: p },
        draggable: false,
        connectable: false,
        selectable: true,
        zIndex: p.type === 'task' ? 1 : 0,
        ariaLabel: `${p.type === 'task' ? 'Task' : p.type === 'loop' ? 'Loop' : 'Group'} ${p.id}`,
      })),
    [layout],
  );
  const nodes = useMemo(
    () => (selected ? baseNodes.map((n) => (n.id === selected ? { ...n, selected: true } : n)) : baseNodes),
    [baseNodes, selected],
  );
  const edges = useMemo<Edge[]>(
    () =>
      layout.edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.target,
        type: 'default',
        focusable: false,
        selectable: false,
        className: 'wf-edge',
      })),
    [layout],
  );
  const ctx = useMemo<GraphCtx>(
    () => ({ model, store, toggle: onToggle, showIteration: onShowIteration }),
    [model, store, onToggle, onShowIteration],
  );
  // Fit the view when asked (fitKey), and when the graph changes size
  // while the person has not moved the view yet.
  const rf = useReactFlow();
  const fitted = useRef<{ key: string; w: number; h: number } | null>(null);
  const userMoved = useRef(false);
  useEffect(() => {
    const key = fitKey ?? '';
    const prev = fitted.current;
    fitted.current = { key, w: layout.width, h: layout.height };
    if (!prev) return; // the first fit is ReactFlow's own (fitView)
    const resized = prev.w !== layout.width || prev.h !== layout.height;
    if (prev.key === key && (!resized || userMoved.current)) return;
    const t = setTimeout(() => void rf.fitView({ padding: 0.12, maxZoom: 1, minZoom: FIT_MIN_ZOOM, duration: 150 }), 30);
    return () => clearTimeout(t);
  }, [fitKey, rf, layout]);

  // Fit again when the pane changes size (a task panel opens or closes, the
  // window is resized) while the person has not moved the view: the graph
  // would otherwise stay where the wider or narrower pane had it.
  const paneW = useStore((st) => st.width);
  const paneH = useStore((st) => st.height);
  const pane = useRef<{ w: number; h: number } | null>(null);
  useEffect(() => {
    const prev = pane.current;
    pane.current = { w: paneW, h: paneH };
    if (!prev || !prev.w || !prev.h || (prev.w === paneW && prev.h === paneH) || userMoved.current) return;
    const t = setTimeout(() => void rf.fitView({ padding: 0.12, maxZoom: 1, minZoom: FIT_MIN_ZOOM, duration: 150 }), 30);
    return () => clearTimeout(t);
  }, [paneW, paneH, rf]);

  // Bring a task into view once it is drawn.
  const focused = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (!focus || focused.current === focus || !layout.nodes.some((n) => n.id === focus)) return;
    focused.current = focus;
    userMoved.current = true;
    const t = setTimeout(() => void rf.fitView({ nodes: [{ id: focus }], padding: 0.6, maxZoom: 1, minZoom: 0.6, duration: 200 }), 80);
    return () => clearTimeout(t);
  }, [focus, layout, rf]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      for (const c of changes) {
        if (c.type === 'select' && c.selected) onSelect?.(c.id);
      }
    },
    [onSelect],
  );
  const big = countVisible(visible) > 300;
  return (
    <GraphContext.Provider value={ctx}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onPaneClick={() => onSelect?.(undefined)}
        onMoveStart={(event) => {
          if (event) userMoved.current = true;
        }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        edgesFocusable={false}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements={big}
        proOptions={{ hideAttribution: true }}
        fitView
        fitViewOptions={{ padding: 0.12, maxZoom: 1, minZoom: FIT_MIN_ZOOM }}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
        {(layout.nodes.length > 40 || layout.width > 1600 || layout.height > 1100) && <MiniMap pannable zoomable nodeClassName={(n) => `mm-${n.type ?? ''}`} />}
      </ReactFlow>
    </GraphContext.Provider>
  );
}

/** A pipeline or run graph. */
export function FlowGraph(props: FlowGraphProps) {
  return (
    <div className="flow-graph" data-testid="run-graph">
      <ReactFlowProvider>
        <Inner {...props} />
      </ReactFlowProvider>
    </div>
  );
}
