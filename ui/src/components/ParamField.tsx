import type { ParamDef } from '../lib/params';
import { typeLabel } from '../lib/params';

/** One typed input of the run form. */
export function ParamField({
  def,
  text,
  error,
  onChange,
}: {
  def: ParamDef;
  text: string;
  error?: string;
  onChange: (text: string) => void;
}) {
  const id = `param-${def.name}`;
  const errId = `${id}-error`;
  const common = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errId : undefined,
    'data-testid': id,
    'data-param': def.name,
  } as const;
  let input;
  switch (def.type) {
    case 'BOOLEAN':
      input = (
        <label className="inline">
          <input type="checkbox" {...common} checked={text.trim().toLowerCase() === 'true'} onChange={(e) => onChange(e.target.checked ? 'true' : 'false')} />{' '}
          {text.trim().toLowerCase() === 'true' ? 'true' : 'false'}
        </label>
      );
      break;
    case 'NUMBER_INTEGER':
      input = <input type="text" inputMode="numeric" {...common} value={text} onChange={(e) => onChange(e.target.value)} placeholder={def.optional ? 'default' : ''} />;
      break;
    case 'NUMBER_DOUBLE':
      input = <input type="text" inputMode="decimal" {...common} value={text} onChange={(e) => onChange(e.target.value)} placeholder={def.optional ? 'default' : ''} />;
      break;
    case 'STRING':
      input = <input type="text" {...common} value={text} onChange={(e) => onChange(e.target.value)} />;
      break;
    default:
      input = (
        <textarea
          {...common}
          className="mono"
          rows={Math.min(8, Math.max(2, text.split('\n').length))}
          value={text}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
          placeholder={def.type === 'LIST' ? '[ ]' : '{ }'}
        />
      );
  }
  return (
    <div className={`field param${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>
        <code>{def.name}</code> <span className="muted small">{typeLabel(def.type)}</span>
        {!def.optional && <span className="req" title="required"> *</span>}
      </label>
      {input}
      {def.description && <span className="hint">{def.description}</span>}
      {error && (
        <span className="field-error" id={errId} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
