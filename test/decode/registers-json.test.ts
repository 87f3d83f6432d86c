/** dmarsift register JSON: reader (validation, line numbers), writer round trip, sniffing. */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildUnitRegisters } from '../../src/decode/registers.js';
import { looksLikeRegistersJson, parseRegistersJson } from '../../src/decode/registers-json.js';
import { InputError } from '../../src/errors.js';
import { encodeRegistersJson, type RegistersJsonUnitInput } from '../../src/synth/registers-json-encode.js';

function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

const doc = (registers: string, extra = '') => `{
  "format": "dmarsift-registers",
  "version": 1,${extra}
  "units": [
    {
      "name": "dmar0",
      "base": "0xfed90000",
      "registers": {
${registers}
      }
    }
  ]
}
`;

describe('parseRegistersJson', () => {
  it('the example from docs/registers-json.md', () => {
    const md = readFileSync(new URL('../../docs/registers-json.md', import.meta.url), 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(md)![1];
    expect(looksLikeRegistersJson(json)).toBe(true);
    const r = parseRegistersJson(json, 'registers.json');
    expect(r.warnings).toEqual([]);
    expect(r.units).toHaveLength(1);
    const u = r.units[0];
    expect(u).toMatchObject({ name: 'dmar0', base: 0xfed90000, line: 5 });
    expect(u.raw).toEqual({
      VER: 0x10n, CAP: 0xd2008c22260206n, ECAP: 0xf00f4an, GSTS: 0xc7000000n, RTADDR: 0x2643000n, FSTS: 0n,
      FRCD0_LO: 0xbadd000n, FRCD0_HI: 0xc000000600000100n,
    });
    const regs = buildUnitRegisters(u.base, u.raw, u.name);
    expect(regs.faultRecords[0]).toMatchObject({ F: true, FR: 6, bus: 1, devfn: 0, type: 'read', FIpfn: 0xbadd });
  });
  it('values: hex either case, decimal strings, exact JSON integers, lower-case names upper-cased', () => {
    const r = parseRegistersJson(doc('"ver": "16", "CAP": 18446744073709551615, "GSTS": "0XC7000000", "RTADDR": 0'), 'f');
    expect(r.units[0].raw).toEqual({ VER: 16n, CAP: 0xffffffffffffffffn, GSTS: 0xc7000000n, RTADDR: 0n });
  });
  it('FRCDn_LO/_HI halves are kept as they are', () => {
    const r = parseRegistersJson(doc('"FRCD3_LO": "0x1000", "FRCD3_HI": "0x8000000000000000"'), 'f');
    expect(r.units[0].raw).toEqual({ FRCD3_LO: 0x1000n, FRCD3_HI: 1n << 63n });
  });
  it('unknown keys are warnings with their lines', () => {
    const r = parseRegistersJson(doc('"VER": "0x10"', '\n  "comment": "taken with devmem",'), 'f');
    expect(r.warnings).toEqual([{ line: 4, message: expect.stringMatching(/\$\.comment/) }]);
  });
  it('zero units is valid; name is optional', () => {
    expect(parseRegistersJson('{"format":"dmarsift-registers","version":1,"units":[]}', 'f').units).toEqual([]);
    const r = parseRegistersJson('{"format":"dmarsift-registers","version":1,"units":[{"base":"0x1000","registers":{}}]}', 'f');
    expect(r.units).toEqual([{ base: 0x1000, raw: {}, line: 1 }]);
  });

  // Line numbers: in doc(), line 9 holds the first register line.
  it.each([
    ['GSTS wider than 32 bits', doc('        "VER": "0x10",\n        "GSTS": "0x1c7000000"'), 10, /\$\.units\[0\]\.registers\.GSTS: .*32 bits/],
    ['CAP wider than 64 bits', doc('        "CAP": "0x10000000000000000"'), 9, /64 bits/],
    ['FRCD wider than 128 bits', doc('        "FRCD0": "0x1' + '0'.repeat(32) + '"'), 9, /128 bits/],
    ['negative number', doc('        "VER": -1'), 9, /expected a hex string/],
    ['fraction', doc('        "VER": 1.5'), 9, /expected a hex string/],
    ['junk string', doc('        "VER": "ten"'), 9, /"ten"/],
    ['null', doc('        "VER": null'), 9, /null/],
    ['duplicate register', doc('        "VER": "0x10",\n        "VER": "0x10"'), 10, /VER is given twice \(first on line 9\)/],
    ['FRCD given both ways', doc('        "FRCD0": "0x1",\n        "FRCD0_HI": "0x1"'), 10, /FRCD0_HI is given twice/],
    ['bad register name', doc('        "V-R": "0x10"'), 9, /not a register name/],
    ['wrong format', doc('').replace('dmarsift-registers', 'something'), 2, /\$\.format/],
    ['wrong version', doc('').replace('"version": 1', '"version": 2'), 3, /\$\.version: expected 1/],
    ['syntax error (missing comma)', doc('        "VER": "0x10"\n        "CAP": "0x1"'), 10, /expected "," or "}"/],
    ['truncated', doc('        "VER": "0x10"').slice(0, 60), 4, /unexpected end|unterminated/],
    ['base missing', doc('').replace('"base": "0xfed90000",', ''), 5, /\$\.units\[0\]\.base: missing/],
    ['base beyond 52 bits', doc('').replace('0xfed90000', '0x10000000000000'), 7, /beyond 52 bits/],
    ['registers not an object', doc('').replace(/"registers": \{\n\n {6}\}/, '"registers": []'), 8, /\$\.units\[0\]\.registers: expected an object/],
    ['units not an array', '{\n"format": "dmarsift-registers",\n"version": 1,\n"units": {}\n}', 4, /\$\.units: expected an array/],
    ['top level not an object', '\n[1, 2]', 2, /top level/],
    ['text after the value', '{"format":"dmarsift-registers","version":1,"units":[]}\n}', 2, /after the JSON value/],
  ])('%s → InputError at the line of the value', (_name, text, line, re) => {
    const e = inputError(() => parseRegistersJson(text, 'registers.json'));
    expect(e.file).toBe('registers.json');
    expect(e.line).toBe(line);
    expect(e.message).toMatch(re);
  });

  it('hostile text: only InputError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      try {
        parseRegistersJson(s, 'f');
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
      }
    }), { numRuns: 500 });
    const deep = '['.repeat(100000);
    expect(inputError(() => parseRegistersJson(deep, 'f')).message).toMatch(/deeper/);
  });
  it('our reader accepts every valid JSON value (as an ignored extra key)', () => {
    fc.assert(fc.property(fc.json(), (s) => {
      const r = parseRegistersJson(`{"format":"dmarsift-registers","version":1,"units":[],"extra":${s}}`, 'f');
      expect(r.warnings).toHaveLength(1);
    }), { numRuns: 300 });
  });
});

describe('encodeRegistersJson', () => {
  it('round-trips units through the reader (both FRCD spellings)', () => {
    const units: RegistersJsonUnitInput[] = [
      { name: 'dmar0', base: 0xfed90000, registers: { VER: 0x10n, CAP: 0xd2008c22260206n, GSTS: 0xc7000000n, FRCD0_LO: 0xbadd000n, FRCD0_HI: 0xc000000600000100n } },
      { base: 0xfed91000, registers: { RTADDR: 0x1234400n, FRCD7_HI: 1n << 63n } },
    ];
    for (const frcd128 of [false, true]) {
      const text = encodeRegistersJson(units, { frcd128 });
      expect(looksLikeRegistersJson(text)).toBe(true);
      const r = parseRegistersJson(text, 'f');
      expect(r.warnings).toEqual([]);
      // with frcd128 the lone FRCD7_HI is written as a 128-bit FRCD7, which reads back as both halves
      const second = frcd128 ? { RTADDR: 0x1234400n, FRCD7_LO: 0n, FRCD7_HI: 1n << 63n } : { RTADDR: 0x1234400n, FRCD7_HI: 1n << 63n };
      expect(r.units.map(({ line: _l, ...u }) => u)).toEqual([
        { name: 'dmar0', base: 0xfed90000, raw: units[0].registers },
        { base: 0xfed91000, raw: second },
      ]);
    }
    expect(encodeRegistersJson(units, { frcd128: true })).toContain('"FRCD0": "0xc000000600000100000000000badd000"');
  });
  it('sniffing rejects other text', () => {
    expect(looksLikeRegistersJson('{"format": "other"}')).toBe(false);
    expect(looksLikeRegistersJson('IOMMU: dmar0 Register Base Address: fed90000')).toBe(false);
    expect(looksLikeRegistersJson('\uFEFF{ "format" : "dmarsift-registers" }')).toBe(true);
  });
});
