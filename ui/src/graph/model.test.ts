import { describe, expect, it } from 'vitest';
import type { PipelineSpec, RunSummary, TaskSummary } from '../api/types';
import { layoutGraph } from './layout';
import { buildModel, countVisible, defaultExpanded, drawnAncestor, revealPath, runIterations, visibleGraph, type ViewState } from './model';
import { RunStore } from './runStore';

const spec: PipelineSpec = {
  pipelineInfo: { name: 'demo' },
  root: {
    dag: {
      tasks: {
        prepare: { componentRef: { name: 'comp-prepare' } },
        'for-loop-1': {
          componentRef: { name: 'comp-for-loop-1' },
          dependentTasks: ['prepare'],
          parameterIterator: { itemInput: 'x', items: { raw: '[]' } },
        },
        'condition-2': {
          componentRef: { name: 'comp-condition-2' },
          dependentTasks: ['prepare'],
          triggerPolicy: { condition: "inputs.parameter_values['x'] == 1" },
        },
        report: { componentRef: { name: 'comp-report' }, dependentTasks: ['for-loop-1', 'condition-2'] },
      },
    },
    inputDefinitions: { parameters: { n: { parameterType: 'NUMBER_INTEGER', defaultValue: 3 } } },
  },
  components: {
    'comp-prepare': { executorLabel: 'exec-prepare' },
    'comp-report': { executorLabel: 'exec-report' },
    'comp-work': { executorLabel: 'exec-work' },
    'comp-check': { executorLabel: 'exec-check' },
    'comp-for-loop-1': {
      dag: {
        tasks: {
          work: { componentRef: { name: 'comp-work' } },
          check: { componentRef: { name: 'comp-check' }, dependentTasks: ['work'] },
        },
      },
    },
    'comp-condition-2': { dag: { tasks: { inner: { componentRef: { name: 'comp-work' } } } } },
  },
};

function task(name: string, kind: TaskSummary['kind'], state: TaskSummary['state'] = 'succeeded'): TaskSummary {
  return {
    name,
    kind,
    state,
    attempts: kind === 'container' ? 1 : 0,
    error: '',
    duration_ms: 10,
    inputs: { parameters: {}, artifacts: {} },
    outputs: { parameters: {}, artifacts: {} },
    cached_from: '',
  };
}

/** A run whose loop has n iterations (two tasks each). */
function bigRun(n: number): RunSummary {
  const tasks: TaskSummary[] = [task('prepare', 'container'), task('for-loop-1', 'loop', 'running')];
  for (let i = 0; i < n; i++) {
    const st = i % 10 === 0 ? 'running' : 'succeeded';
    tasks.push(task(`for-loop-1/${i}`, 'iteration', st), task(`for-loop-1/${i}/work`, 'container', st), task(`for-loop-1/${i}/check`, 'container', st === 'running' ? 'pending' : st));
  }
  tasks.push(task('condition-2', 'dag', 'skipped'), task('condition-2/inner', 'container', 'skipped'));
  return { run_id: 'r', pipeline: 'demo', name: 'r', state: 'running', error: '', created_at: '', duration_ms: 0, parameters: {}, pipeline_root: '', tasks };
}

const none: ViewState = { expanded: new Set(), iteration: new Map() };

describe('buildModel', () => {
  it('reads the spec: kinds, roles, dependencies', () => {
    const m = buildModel(spec);
    expect(m.root.children.sort()).toEqual(['condition-2', 'for-loop-1', 'prepare', 'report']);
    expect(m.nodes.get('for-loop-1')?.kind).toBe('loop');
    expect(m.nodes.get('condition-2')?.role).toBe('condition');
    expect(m.nodes.get('condition-2/inner')?.kind).toBe('container');
    expect(m.nodes.get('report')?.deps).toEqual(['for-loop-1', 'condition-2']);
    // A loop without iterations shows its body as iteration 0, not part of the run.
    expect(m.nodes.get('for-loop-1/0/check')?.deps).toEqual(['work']);
    expect(m.nodes.get('for-loop-1/0')?.inRun).toBe(false);
    expect(runIterations(m, 'for-loop-1')).toBe(0);
  });

  it('adds the run tasks, iterations in numeric order', () => {
    const m = buildModel(spec, bigRun(12).tasks);
    const loop = m.nodes.get('for-loop-1')!;
    expect(loop.children.slice(0, 4)).toEqual(['0', '1', '2', '3']);
    expect(loop.children.at(-1)).toBe('11');
    expect(runIterations(m, 'for-loop-1')).toBe(12);
    expect(m.nodes.get('for-loop-1/7/check')?.deps).toEqual(['work']);
    expect(m.nodes.get('for-loop-1/7/check')?.inRun).toBe(true);
    // Tasks not in the spec still get a place.
    const m2 = buildModel(null, [{ name: 'a/b/c', kind: 'container' }]);
    expect(m2.nodes.get('a')?.kind).toBe('dag');
    expect(m2.nodes.get('a/b/c')?.kind).toBe('container');
  });
});

describe('visibleGraph', () => {
  it('draws a loop of 10,000 iterations as one node', () => {
    const m = buildModel(spec, bigRun(10_000).tasks);
    const v = visibleGraph(m, none);
    expect(countVisible(v)).toBe(4);
    expect(v.children?.find((c) => c.id === 'for-loop-1')?.type).toBe('loop');
    expect(v.edges).toContainEqual(['prepare', 'for-loop-1']);
    expect(v.edges).toContainEqual(['for-loop-1', 'report']);
  });

  it('an expanded loop shows the chosen iteration only', () => {
    const m = buildModel(spec, bigRun(10_000).tasks);
    const view: ViewState = { expanded: new Set(['for-loop-1']), iteration: new Map([['for-loop-1', 4321]]) };
    const v = visibleGraph(m, view);
    const loop = v.children!.find((c) => c.id === 'for-loop-1')!;
    expect(loop.iteration).toBe(4321);
    expect(loop.children!.map((c) => c.id).sort()).toEqual(['for-loop-1/4321/check', 'for-loop-1/4321/work']);
    expect(loop.edges).toEqual([['for-loop-1/4321/work', 'for-loop-1/4321/check']]);
    expect(countVisible(v)).toBe(6);
  });

  it('expands small DAGs by default, never loops', () => {
    const m = buildModel(spec, bigRun(100).tasks);
    const e = defaultExpanded(m);
    expect(e.has('condition-2')).toBe(true);
    expect(e.has('for-loop-1')).toBe(false);
  });

  it('reveals a task inside a loop iteration', () => {
    const m = buildModel(spec, bigRun(50).tasks);
    expect(revealPath(m, 'for-loop-1/42/work')).toEqual({ expand: ['for-loop-1'], iterations: [['for-loop-1', 42]] });
    expect(drawnAncestor('for-loop-1/42/work', new Set(['for-loop-1']))).toBe('for-loop-1');
  });
});

describe('layoutGraph', () => {
  it('places dependents below their dependencies and children inside groups', () => {
    const m = buildModel(spec, bigRun(3).tasks);
    const l = layoutGraph(visibleGraph(m, { expanded: new Set(['condition-2', 'for-loop-1']), iteration: new Map() }));
    const at = (id: string) => l.nodes.find((n) => n.id === id)!;
    expect(at('for-loop-1').y).toBeGreaterThan(at('prepare').y);
    expect(at('report').y).toBeGreaterThan(at('for-loop-1').y + at('for-loop-1').height - 1);
    const inner = at('condition-2/inner');
    expect(inner.parentId).toBe('condition-2');
    expect(inner.x).toBeGreaterThanOrEqual(0);
    expect(inner.x + inner.width).toBeLessThanOrEqual(at('condition-2').width);
    // Parents come before their children (React Flow needs it).
    const idx = (id: string) => l.nodes.findIndex((n) => n.id === id);
    expect(idx('condition-2')).toBeLessThan(idx('condition-2/inner'));
    expect(l.edges.map((e) => e.id)).toContain('for-loop-1/0/work->for-loop-1/0/check');
  });

  it('lays out a 10,000-task run quickly', () => {
    const t0 = performance.now();
    const m = buildModel(spec, bigRun(3_400).tasks);
    const l = layoutGraph(visibleGraph(m, { expanded: defaultExpanded(m), iteration: new Map() }));
    expect(l.nodes.length).toBeLessThan(10);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('RunStore', () => {
  it('counts children by state and follows task events', () => {
    const s = new RunStore();
    expect(s.applySummary(bigRun(20))).toBe(true);
    expect(s.childCounts('for-loop-1')).toEqual({ running: 2, succeeded: 18 });
    expect(s.applyTaskEvent({ run_id: 'r', task: 'for-loop-1/0', task_run_id: 'x', kind: 'iteration', state: 'failed' })).toBe(true);
    expect(s.childCounts('for-loop-1')).toEqual({ running: 1, succeeded: 18, failed: 1 });
    expect(s.state('for-loop-1/0')?.state).toBe('failed');
    // An unknown task means the structure changed.
    expect(s.applyTaskEvent({ run_id: 'r', task: 'for-loop-1/20', task_run_id: 'y', kind: 'iteration', state: 'running' })).toBe(false);
    // ... but it is counted at once.
    expect(s.childCounts('for-loop-1')).toEqual({ running: 2, succeeded: 18, failed: 1 });
    // A summary that does not have it yet keeps it.
    expect(s.applySummary(bigRun(20))).toBe(false);
    expect(s.state('for-loop-1/20')?.state).toBe('running');
    expect(s.applySummary(bigRun(20))).toBe(false);
    expect(s.applySummary(bigRun(21))).toBe(true);
  });

  it('notifies only the keys that changed', async () => {
    const s = new RunStore();
    s.applySummary(bigRun(5));
    const seen: string[] = [];
    for (const k of ['prepare', 'for-loop-1/1/work', 'for-loop-1/2/work', 'counts:for-loop-1/1']) s.subscribe(k, () => seen.push(k));
    s.applyTaskEvent({ run_id: 'r', task: 'for-loop-1/1/work', task_run_id: 'x', kind: 'container', state: 'failed' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.sort()).toEqual(['counts:for-loop-1/1', 'for-loop-1/1/work']);
  });

  it('takes brief tasks and keeps what did not change', async () => {
    const s = new RunStore();
    const brief = (state: 'running' | 'succeeded') => ({
      tasks: [
        { name: 'prepare', kind: 'container' as const, state: 'succeeded' as const, attempts: 1 },
        { name: 'loop', kind: 'loop' as const, state, attempts: 0 },
        { name: 'loop/0', kind: 'iteration' as const, state: 'succeeded' as const, attempts: 0 },
        { name: 'loop/1', kind: 'iteration' as const, state, attempts: 0 },
      ],
    });
    s.applySummary(brief('running'));
    const rootCounts = s.childCounts('');
    const loopCounts = s.childCounts('loop');
    const prepare = s.state('prepare');
    expect(loopCounts).toEqual({ succeeded: 1, running: 1 });
    expect(prepare).toEqual({ state: 'succeeded', attempt: 1, error: undefined });
    const seen: string[] = [];
    for (const k of ['prepare', 'loop/1', 'counts:', 'counts:loop', 'task:prepare']) s.subscribe(k, () => seen.push(k));
    expect(s.applySummary(brief('succeeded'))).toBe(false);
    // Unchanged states and counts are the same objects (their nodes do not render again).
    expect(s.state('prepare')).toBe(prepare);
    expect(s.childCounts('loop')).not.toBe(loopCounts);
    expect(s.childCounts('loop')).toEqual({ succeeded: 2 });
    expect(s.childCounts('')).not.toBe(rootCounts);
    await new Promise((r) => setTimeout(r, 200));
    // The open task panel (task:) hears of every summary.
    expect(seen.sort()).toEqual(['counts:', 'counts:loop', 'loop/1', 'task:prepare']);
  });
});
