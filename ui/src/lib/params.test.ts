import { describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../api/types';
import { checkParams, initialTexts, parseParam, pipelineParams } from './params';

const spec: PipelineSpec = {
  root: {
    inputDefinitions: {
      parameters: {
        n: { parameterType: 'NUMBER_INTEGER', defaultValue: 3, isOptional: true },
        rate: { parameterType: 'NUMBER_DOUBLE' },
        flag: { parameterType: 'BOOLEAN', defaultValue: false, isOptional: true },
        words: { parameterType: 'LIST', defaultValue: ['a', 'b'], isOptional: true },
        cfg: { parameterType: 'STRUCT' },
        name: { parameterType: 'STRING' },
        legacy: { type: 'INT' },
      },
    },
  },
};

describe('pipelineParams', () => {
  it('reads types, defaults and optionality', () => {
    const defs = pipelineParams(spec);
    const by = Object.fromEntries(defs.map((d) => [d.name, d]));
    expect(by.n).toMatchObject({ type: 'NUMBER_INTEGER', optional: true, hasDefault: true, defaultValue: 3 });
    expect(by.rate).toMatchObject({ type: 'NUMBER_DOUBLE', optional: false, hasDefault: false });
    expect(by.legacy.type).toBe('NUMBER_INTEGER');
    expect(initialTexts(defs)).toMatchObject({ n: '3', flag: 'false', words: '[\n  "a",\n  "b"\n]', rate: '', name: '' });
    expect(initialTexts(defs, { n: 7, name: 'x' })).toMatchObject({ n: '7', name: 'x' });
  });
});

describe('parseParam', () => {
  const req = (type: Parameters<typeof parseParam>[0]['type']) => ({ type, optional: false });
  it('checks integers', () => {
    expect(parseParam(req('NUMBER_INTEGER'), ' 42 ')).toEqual({ ok: true, value: 42 });
    expect(parseParam(req('NUMBER_INTEGER'), '-3')).toEqual({ ok: true, value: -3 });
    expect(parseParam(req('NUMBER_INTEGER'), '4.5').ok).toBe(false);
    expect(parseParam(req('NUMBER_INTEGER'), 'x').ok).toBe(false);
    expect(parseParam(req('NUMBER_INTEGER'), '99999999999999999999').ok).toBe(false);
    expect(parseParam(req('NUMBER_INTEGER'), '').ok).toBe(false);
    expect(parseParam({ type: 'NUMBER_INTEGER', optional: true }, '')).toEqual({ ok: true, value: undefined, omit: true });
  });
  it('checks numbers', () => {
    expect(parseParam(req('NUMBER_DOUBLE'), '0.25')).toEqual({ ok: true, value: 0.25 });
    expect(parseParam(req('NUMBER_DOUBLE'), '1e-3')).toEqual({ ok: true, value: 0.001 });
    expect(parseParam(req('NUMBER_DOUBLE'), '.5')).toEqual({ ok: true, value: 0.5 });
    expect(parseParam(req('NUMBER_DOUBLE'), 'NaN').ok).toBe(false);
    expect(parseParam(req('NUMBER_DOUBLE'), '1,5').ok).toBe(false);
  });
  it('checks booleans', () => {
    expect(parseParam(req('BOOLEAN'), 'true')).toEqual({ ok: true, value: true });
    expect(parseParam(req('BOOLEAN'), 'False')).toEqual({ ok: true, value: false });
    expect(parseParam(req('BOOLEAN'), 'yes').ok).toBe(false);
  });
  it('checks JSON lists and structs', () => {
    expect(parseParam(req('LIST'), '[1, "a"]')).toEqual({ ok: true, value: [1, 'a'] });
    expect(parseParam(req('LIST'), '{"a": 1}')).toMatchObject({ ok: false, error: expect.stringContaining('list') });
    expect(parseParam(req('LIST'), '[1,')).toMatchObject({ ok: false, error: expect.stringContaining('invalid JSON') });
    expect(parseParam(req('STRUCT'), '{"a": {"b": [1]}}')).toEqual({ ok: true, value: { a: { b: [1] } } });
    expect(parseParam(req('STRUCT'), '[1]').ok).toBe(false);
    expect(parseParam(req('STRUCT'), 'null').ok).toBe(false);
  });
  it('keeps strings as typed, empty ones too', () => {
    expect(parseParam(req('STRING'), ' a b ')).toEqual({ ok: true, value: ' a b ' });
    expect(parseParam(req('STRING'), '')).toEqual({ ok: true, value: '' });
    expect(parseParam({ type: 'STRING', optional: true }, '').ok).toBe(true);
  });
});

describe('checkParams', () => {
  it('collects the values and the errors of a form', () => {
    const defs = pipelineParams(spec);
    const bad = checkParams(defs, { ...initialTexts(defs), rate: 'fast', cfg: '[]' });
    expect(bad.valid).toBe(false);
    expect(Object.keys(bad.errors).sort()).toEqual(['cfg', 'legacy', 'rate']);
    const good = checkParams(defs, { ...initialTexts(defs), rate: '0.5', cfg: '{"k": 1}', legacy: '2', name: 'x', n: '' });
    expect(good.valid).toBe(true);
    expect(good.parameters).toEqual({ rate: 0.5, cfg: { k: 1 }, legacy: 2, name: 'x', flag: false, words: ['a', 'b'] });
  });
});
