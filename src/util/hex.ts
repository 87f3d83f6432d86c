/** Hex formatting as the CLI contract wants it: lower-case, `0x` prefix, no padding. */
export function hex(value: number | bigint): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`hex(): not an exact non-negative integer: ${value}`);
  }
  return '0x' + value.toString(16);
}

/**
 * hex() for a message about a value a hostile input may have made inexact or negative (an offset
 * computed from a header, a range read from text): never throws, where hex() would. Such a message
 * is how that input is refused, so formatting it must not fail.
 */
export function hexInMessage(value: number | bigint): string {
  return '0x' + value.toString(16);
}

/**
 * hex() of an identifying value a text part gave (PCI ids and class, a manifest's unit base), or
 * null when it is not an exact non-negative integer: the parsers refuse or warn about those, and a
 * writer must never lose a whole report to one that slipped through.
 */
export function hexIdOrNull(value: number | bigint | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value === 'number' && (!Number.isSafeInteger(value) || value < 0)) return null;
  if (typeof value === 'bigint' && value < 0n) return null;
  return hex(value);
}

/** Fixed-width hex with 0x, e.g. hexPad(0x1n, 16) = 0x0000000000000001 (Linux's %016llx). */
export function hexPad(value: number | bigint, digits: number): string {
  return '0x' + hexDigits(value, digits);
}

/** Fixed-width hex without 0x, e.g. hexDigits(0x86, 4) = 0086 (C's %04x, as pciconf and lspci print ids). */
export function hexDigits(value: number | bigint, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}

/** Parse `0x…`, bare hex with a-f, or decimal; returns bigint. Throws RangeError on junk. */
export function parseIntLiteral(text: string): bigint {
  const t = text.trim().toLowerCase();
  if (/^0x[0-9a-f]+$/.test(t)) return BigInt(t);
  if (/^[0-9]+$/.test(t)) return BigInt(t);
  throw new RangeError(`not a number: ${JSON.stringify(text)}`);
}

/** The value of hex digits a reader's pattern already matched (no `0x`, no sign, no spaces). */
export function fromHexDigits(digits: string): bigint {
  return BigInt('0x' + digits);
}

/**
 * Matched hex digits as an exact number (the model's address convention), or undefined when the
 * value is at or above 2^53, where a number would round it: the reader rejects those with a warning.
 */
export function exactFromHexDigits(digits: string): number | undefined {
  const v = fromHexDigits(digits);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}

/** Parse a hex string with or without 0x prefix (as debugfs prints them). */
export function parseHex(text: string): bigint {
  const t = text.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]+$/.test(t)) throw new RangeError(`not a hex number: ${JSON.stringify(text)}`);
  return fromHexDigits(t);
}

/** bigint → number, only when exact (addresses are ≤ 52 bits by the VT-d spec). */
export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < 0n) throw new RangeError(`value ${hex(value)} does not fit an exact number`);
  return Number(value);
}

/** Page frame number ↔ byte address as a bigint (for IOVAs that may exceed 2^53). */
export function pfnToAddr(pfn: number): bigint {
  return BigInt(pfn) << 12n;
}
/** Page number → "0x…" byte address (exact for page numbers above 2^41 too). */
export function pfnHex(pfn: number): string {
  return hex(pfnToAddr(pfn));
}
