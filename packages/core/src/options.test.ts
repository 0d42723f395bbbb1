// Unit tests of core's resolveOptions (interfaces.ts); kept in conformance/.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from './interfaces.js';

const d = {
  name: 'demo',
  options: [
    { name: 'cache', type: 'boolean', default: true, description: 'use the cache' },
    { name: 'fanout', type: 'number', default: 16, description: 'node fan-out' },
    {
      name: 'dup',
      type: 'enum',
      values: ['tree', 'per-vma'],
      default: 'tree',
      description: 'fork copy',
    },
  ],
} as const;

describe('resolveOptions', () => {
  it('fills in defaults and passes valid values through', () => {
    expect(resolveOptions(d, {})).toEqual({ cache: true, fanout: 16, dup: 'tree' });
    expect(resolveOptions(d, { cache: false, dup: 'per-vma' })).toEqual({
      cache: false,
      fanout: 16,
      dup: 'per-vma',
    });
    expect(resolveOptions(d, { fanout: 4, cache: undefined })).toEqual({
      cache: true,
      fanout: 4,
      dup: 'tree',
    });
    expect(resolveOptions({ name: 'none', options: [] }, {})).toEqual({});
  });

  it('rejects an unknown option, naming the strategy and listing the known ones', () => {
    expect(() => resolveOptions(d, { cahce: true })).toThrow(
      "strategy 'demo': unknown option 'cahce' (options: cache, fanout, dup)",
    );
    expect(() => resolveOptions({ name: 'bare', options: [] }, { x: 1 })).toThrow(
      "strategy 'bare': unknown option 'x' (options: none)",
    );
  });

  it('rejects a value of the wrong type', () => {
    expect(() => resolveOptions(d, { cache: 'yes' })).toThrow(
      `strategy 'demo': option 'cache' must be a boolean, got "yes"`,
    );
    expect(() => resolveOptions(d, { fanout: '16' })).toThrow(
      `option 'fanout' must be a number, got "16"`,
    );
    expect(() => resolveOptions(d, { fanout: null })).toThrow(
      `option 'fanout' must be a number, got null`,
    );
  });

  it('rejects an enum value outside the list', () => {
    expect(() => resolveOptions(d, { dup: 'copy' })).toThrow(
      `strategy 'demo': option 'dup' must be one of tree | per-vma, got "copy"`,
    );
    expect(() => resolveOptions(d, { dup: 1 })).toThrow(`must be one of tree | per-vma, got 1`);
  });
});
