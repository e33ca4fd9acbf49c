import { useMemo } from 'react';
import type { PipelineSpec } from '../api/types';
import { FlowGraph } from './FlowGraph';
import { buildModel } from './model';
import { useGraphView } from './useView';

/** The graph of a pipeline spec alone (no run). */
export function SpecGraph({ spec }: { spec: PipelineSpec }) {
  const model = useMemo(() => buildModel(spec), [spec]);
  const v = useGraphView(model);
  if (model.root.children.length === 0) return <p className="muted">The pipeline has no tasks.</p>;
  return (
    <FlowGraph
      model={model}
      store={null}
      view={v.view}
      onToggle={v.toggle}
      onShowIteration={v.showIteration}
      fitKey={v.fitKey}
    />
  );
}
