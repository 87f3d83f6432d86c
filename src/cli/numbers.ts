/**
 * Numeric option values: `0x…` or decimal. A value that is a number but out of range says the
 * range (not "not a number"); only text that is no integer at all is "not a number".
 */
import { UsageError } from '../errors.js';

/** Physical addresses are at most 52 bits wide (VT-d HAW ≤ 52 in every model number). */
const ADDRESS_LIMIT = 2n ** 52n;

/** The integer the text spells, or undefined; `fraction` is true for 1.5, 1e3 and the like. */
function parseSigned(text: string): { value?: bigint; fraction: boolean } {
  const t = text.trim().toLowerCase();
  const m = /^([-+]?)(0x[0-9a-f]+|[0-9]+)$/.exec(t);
  if (m) {
    const v = BigInt(m[2]);
    return { value: m[1] === '-' ? -v : v, fraction: false };
  }
  return { fraction: /^[-+]?([0-9]*\.[0-9]+|[0-9]+\.?[0-9]*e[-+]?[0-9]+)$/.test(t) };
}

/**
 * A count or size option from `min` to `max` (`what` says that range in words). With `clamp`,
 * values above `max` mean "as many as there are" and become `max`.
 */
export function integerOption(v: unknown, opt: string, range: { min: number; max: number; what: string; clamp?: boolean }): number | undefined {
  if (v === undefined) return undefined;
  const text = String(v);
  const { value, fraction } = parseSigned(text);
  if (value === undefined) {
    throw new UsageError(fraction ? `--${opt}: ${range.what} (got ${text})` : `--${opt}: not a number: ${JSON.stringify(text)} (${range.what})`);
  }
  if (value > BigInt(range.max) && range.clamp) return range.max;
  if (value < BigInt(range.min) || value > BigInt(range.max)) throw new UsageError(`--${opt}: ${range.what} (got ${text})`);
  return Number(value);
}

/** A host-physical address option (`--base`, `--rtaddr`): below 2^52. */
export function addressOption(v: unknown, opt: string): number | undefined {
  if (v === undefined) return undefined;
  const text = String(v);
  const { value } = parseSigned(text);
  if (value === undefined) throw new UsageError(`--${opt}: not an address: ${JSON.stringify(text)} (0x… or decimal)`);
  if (value < 0n || value >= ADDRESS_LIMIT) throw new UsageError(`--${opt}: ${text} is outside the 52-bit physical address space (0 to 0xfffffffffffff)`);
  return Number(value);
}
