import type { PipelineSpec } from '../api/types';
import { formatValue } from '../lib/format';
import { pipelineParams, typeLabel } from '../lib/params';

/** The root parameters of a pipeline with their types and defaults. */
export function ParamsTable({ spec }: { spec: PipelineSpec | null }) {
  const params = pipelineParams(spec);
  const artifacts = Object.entries(spec?.root?.inputDefinitions?.artifacts ?? {});
  if (params.length === 0 && artifacts.length === 0) return <p className="muted">This pipeline takes no parameters.</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="params-table">
        <thead>
          <tr>
            <th>Parameter</th>
            <th>Type</th>
            <th>Default</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {params.map((p) => (
            <tr key={p.name} data-param={p.name}>
              <td>
                <code>{p.name}</code>
                {!p.optional && <span className="req" title="required"> *</span>}
              </td>
              <td>{typeLabel(p.type)}</td>
              <td>{p.hasDefault ? <code className="value">{formatValue(p.defaultValue)}</code> : <span className="muted">required</span>}</td>
              <td className="muted">{p.description}</td>
            </tr>
          ))}
          {artifacts.map(([name, a]) => (
            <tr key={`a:${name}`}>
              <td>
                <code>{name}</code>
              </td>
              <td>artifact {a.artifactType?.schemaTitle ?? ''}</td>
              <td className="muted">—</td>
              <td className="muted">{a.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
