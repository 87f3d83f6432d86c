import { describe, expect, it } from 'vitest';
import { pushAll } from '../../src/util/arrays.js';

describe('pushAll', () => {
  it('appends a list far longer than a spread may pass as arguments, in order', () => {
    const items = Array.from({ length: 1_000_000 }, (_, i) => i);
    // What it replaces throws here: the spread passes every item on the stack.
    expect(() => [0].push(...items)).toThrow(RangeError);
    const target = [-1];
    pushAll(target, items);
    expect(target.length).toBe(1_000_001);
    expect(target[0]).toBe(-1);
    expect(target[1]).toBe(0);
    expect(target[1_000_000]).toBe(999_999);
  });
});
