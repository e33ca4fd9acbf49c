// Pipeline parameters: their declared types (root.inputDefinitions) and
// the checking of the values typed into the run form. Pure.

import type { ParameterSpec, PipelineSpec } from '../api/types';

export type ParamType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT' | 'TASK_FINAL_STATUS' | 'UNKNOWN';

export interface ParamDef {
  name: string;
  type: ParamType;
  optional: boolean;
  hasDefault: boolean;
  defaultValue: unknown;
  description: string;
}

const legacy: Record<string, ParamType> = { STRING: 'STRING', INT: 'NUMBER_INTEGER', DOUBLE: 'NUMBER_DOUBLE' };

export function paramType(p: ParameterSpec): ParamType {
  const t = (p.parameterType ?? '').toUpperCase();
  switch (t) {
    case 'STRING':
    case 'NUMBER_INTEGER':
    case 'NUMBER_DOUBLE':
    case 'BOOLEAN':
    case 'LIST':
    case 'STRUCT':
    case 'TASK_FINAL_STATUS':
      return t;
  }
  if (p.type && legacy[p.type.toUpperCase()]) return legacy[p.type.toUpperCase()];
  return 'UNKNOWN';
}

/** A short name of a type for people. */
export function typeLabel(t: ParamType): string {
  switch (t) {
    case 'NUMBER_INTEGER':
      return 'integer';
    case 'NUMBER_DOUBLE':
      return 'number';
    case 'STRING':
      return 'string';
    case 'BOOLEAN':
      return 'boolean';
    case 'LIST':
      return 'list (JSON)';
    case 'STRUCT':
      return 'struct (JSON)';
    case 'TASK_FINAL_STATUS':
      return 'task final status';
    default:
      return 'value (JSON)';
  }
}

/** The root parameters of a pipeline, sorted by name. */
export function pipelineParams(spec: PipelineSpec | null | undefined): ParamDef[] {
  const params = spec?.root?.inputDefinitions?.parameters ?? {};
  return Object.entries(params)
    .map(([name, p]) => ({
      name,
      type: paramType(p),
      optional: !!p.isOptional || p.defaultValue !== undefined,
      hasDefault: p.defaultValue !== undefined,
      defaultValue: p.defaultValue,
      description: p.description ?? '',
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The text that a form field starts with for a value of the given type. */
export function toInputText(t: ParamType, v: unknown): string {
  if (v === undefined || v === null) return '';
  switch (t) {
    case 'STRING':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'NUMBER_INTEGER':
      return typeof v === 'number' ? String(Math.trunc(v)) : String(v);
    case 'NUMBER_DOUBLE':
      return String(v);
    case 'BOOLEAN':
      return v === true || v === 'true' ? 'true' : 'false';
    default:
      return JSON.stringify(v, null, 2);
  }
}

export type Parsed = { ok: true; value: unknown; omit?: boolean } | { ok: false; error: string };

/**
 * Checks the text typed for a parameter and turns it into the JSON value
 * to send. An empty field of an optional parameter is left out (the
 * pipeline's default applies); an empty string stays a string.
 */
export function parseParam(def: Pick<ParamDef, 'type' | 'optional'>, text: string): Parsed {
  const trimmed = text.trim();
  if (def.type === 'STRING') {
    if (text === '' && def.optional) return { ok: true, value: undefined, omit: true };
    return { ok: true, value: text };
  }
  if (trimmed === '') {
    if (def.optional) return { ok: true, value: undefined, omit: true };
    return { ok: false, error: 'a value is required' };
  }
  switch (def.type) {
    case 'NUMBER_INTEGER': {
      if (!/^[-+]?\d+$/.test(trimmed)) return { ok: false, error: 'not an integer' };
      const n = Number(trimmed);
      if (!Number.isSafeInteger(n)) return { ok: false, error: 'integer out of range' };
      return { ok: true, value: n };
    }
    case 'NUMBER_DOUBLE': {
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return { ok: false, error: 'not a number' };
      const n = Number(trimmed);
      if (!Number.isFinite(n)) return { ok: false, error: 'not a finite number' };
      return { ok: true, value: n };
    }
    case 'BOOLEAN': {
      const l = trimmed.toLowerCase();
      if (l === 'true') return { ok: true, value: true };
      if (l === 'false') return { ok: true, value: false };
      return { ok: false, error: 'must be true or false' };
    }
    case 'LIST':
    case 'STRUCT':
    case 'TASK_FINAL_STATUS':
    case 'UNKNOWN': {
      let v: unknown;
      try {
        v = JSON.parse(trimmed);
      } catch (e) {
        return { ok: false, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
      }
      if (def.type === 'LIST' && !Array.isArray(v)) return { ok: false, error: 'must be a JSON list, e.g. [1, 2]' };
      if ((def.type === 'STRUCT' || def.type === 'TASK_FINAL_STATUS') && (v === null || typeof v !== 'object' || Array.isArray(v))) {
        return { ok: false, error: 'must be a JSON object, e.g. {"a": 1}' };
      }
      return { ok: true, value: v };
    }
  }
  return { ok: true, value: text };
}

export interface FormCheck {
  parameters: Record<string, unknown>;
  errors: Record<string, string>;
  valid: boolean;
}

/** Checks every field of the run form. */
export function checkParams(defs: ParamDef[], texts: Record<string, string>): FormCheck {
  const parameters: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const d of defs) {
    const r = parseParam(d, texts[d.name] ?? '');
    if (!r.ok) errors[d.name] = r.error;
    else if (!r.omit) parameters[d.name] = r.value;
  }
  return { parameters, errors, valid: Object.keys(errors).length === 0 };
}

/** The initial texts of the form: a run's values when cloning, else the defaults. */
export function initialTexts(defs: ParamDef[], values?: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of defs) {
    const v = values && d.name in values ? values[d.name] : d.defaultValue;
    out[d.name] = toInputText(d.type, v);
  }
  return out;
}
