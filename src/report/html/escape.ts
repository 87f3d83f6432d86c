/**
 * Escaping for the HTML report. Every string that comes from a capture (device and VM names,
 * paths, messages, evidence) is hostile input: it goes into the page only through `esc`, as text
 * or as a quoted attribute value, never into a script, a style, a URL or a tag name.
 */

/** C0/C1 controls other than tab and newline: replaced, so nothing can confuse a parser or a terminal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it replaces
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** Text or a double-quoted attribute value: & < > " ' escaped, control characters replaced. */
export function esc(text: string | number): string {
  return String(text)
    .replace(CONTROLS, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** ` name="value"` with the value escaped; nothing when the value is undefined. */
export function attr(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : ` ${name}="${esc(value)}"`;
}

/** Shorten for a picture label (the full text goes into the hover text). */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

/** A URL a link may point at: absolute http(s) or file only (never javascript:, data:, …). */
export function safeHref(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' || u.protocol === 'file:' ? u.href : undefined;
  } catch {
    return undefined;
  }
}
