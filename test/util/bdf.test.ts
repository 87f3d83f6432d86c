/**
 * One BDF formatter (issue 13): the segment-less `BB:DD.F` a source-id is shown as (invalidation
 * descriptors, the context entries scan finds) is formatBdf's own notation without the segment.
 */
import { describe, expect, it } from 'vitest';
import { decodeDescriptor, describeDescriptor } from '../../src/decode/invalidation.js';
import { formatBdf, formatBusDevfn } from '../../src/util/bdf.js';

describe('formatBusDevfn', () => {
  it('bus and device as two hex digits, the function as one, like Linux\'s %02x:%02x.%d', () => {
    expect(formatBusDevfn(0, 0)).toBe('00:00.0');
    expect(formatBusDevfn(0x3a, (0x1c << 3) | 5)).toBe('3a:1c.5');
    expect(formatBusDevfn(0xff, 0xff)).toBe('ff:1f.7');
  });
  it('is formatBdf without the segment, for every bus and devfn', () => {
    const differ: string[] = [];
    for (let sid = 0; sid < 0x10000; sid++) {
      const bdf = formatBdf({ segment: 0x12ab, bus: sid >> 8, devfn: sid & 0xff });
      if (bdf !== `12ab:${formatBusDevfn(sid >> 8, sid & 0xff)}`) differ.push(bdf);
    }
    expect(differ).toEqual([]);
  });
  it('an invalidation descriptor names its SID in that notation', () => {
    // Context-cache invalidation (type 1), device-selective (G 5:4 = 11b), DID 6 (31:16), SID 0xa3f5 (47:32) = a3:1e.5.
    expect(describeDescriptor(decodeDescriptor([0xa3f5_0006_0031n, 0n]))).toBe('context-cache device-selective DID 6 SID a3:1e.5');
  });
});
