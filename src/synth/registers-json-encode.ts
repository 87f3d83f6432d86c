/**
 * Writes dmarsift's register JSON (docs/registers-json.md). Used only by tests and the sample
 * generator; the reader is src/decode/registers-json.ts.
 */
import type { RawRegisters } from '../decode/registers-types.js';
import { hex, hexPad } from '../util/hex.js';

export interface RegistersJsonUnitInput {
  name?: string;
  base: number;
  registers: RawRegisters;
}

export interface EncodeRegistersJsonOptions {
  /** Write each FRCDn_LO/FRCDn_HI pair as one 128-bit `FRCDn` value (both spellings are valid). */
  frcd128?: boolean;
}


/** Encode units as a `dmarsift-registers` version 1 document (2-space indented, final newline). */
export function encodeRegistersJson(units: RegistersJsonUnitInput[], opts: EncodeRegistersJsonOptions = {}): string {
  const doc = {
    format: 'dmarsift-registers',
    version: 1,
    units: units.map((u) => {
      const registers: Record<string, string> = {};
      const done = new Set<string>();
      for (const [name, value] of Object.entries(u.registers)) {
        const m = /^FRCD(\d+)_(LO|HI)$/.exec(name);
        if (opts.frcd128 && m) {
          const whole = `FRCD${m[1]}`;
          if (done.has(whole)) continue;
          done.add(whole);
          const lo = u.registers[`${whole}_LO`] ?? 0n;
          const hi = u.registers[`${whole}_HI`] ?? 0n;
          registers[whole] = hexPad((hi << 64n) | lo, 32);
          continue;
        }
        registers[name] = hex(value);
      }
      return { ...(u.name !== undefined ? { name: u.name } : {}), base: hex(u.base), registers };
    }),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
