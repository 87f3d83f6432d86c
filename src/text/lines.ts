/**
 * Line handling shared by the text readers: the line walk of src/util/lines.ts (CRLF and lone CR,
 * BOM, line numbers, a bound on line length), and a bounded warning list (a pasted binary or a
 * huge unrelated log must not produce a million warnings).
 */
import type { ModelWarning } from '../model/types.js';
import { eachLine, type Line, type LongLine } from '../util/lines.js';

export { eachLine, MAX_LINE, NotRecognisedError } from '../util/lines.js';
export type { Line, LongLine, TextChunks, TextInput } from '../util/lines.js';

/** All lines of a string, as an array (for callers that look back and forth). */
export function textLines(text: string, maxLine = Number.MAX_SAFE_INTEGER): Line[] {
  const out = [...eachLine(text, () => {}, maxLine)];
  // An empty text is one empty line (as split() would say), so callers can name "line 1".
  return out.length === 0 ? [{ text: '', no: 1 }] : out;
}

/** The first `max` lines, for cheap content sniffing. */
export function headLines(text: string, max = 50): string[] {
  const head = text.slice(0, 16384).split('\n', max);
  return head.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const MAX_LINE_WARNINGS = 100;

export class LineWarnings {
  readonly list: ModelWarning[] = [];
  private suppressed = 0;

  constructor(private readonly part: string) {}

  warn(message: string, line: number): void {
    if (this.list.length < MAX_LINE_WARNINGS) this.list.push({ message, source: { part: this.part, line } });
    else this.suppressed++;
  }

  /** Warning about a line that is none of the shapes the reader knows (shell prompt, ticket text…). */
  unrecognised(what: string, l: Line): void {
    this.warn(`line not recognised as ${what}, skipped: ${excerpt(l.text)}`, l.no);
  }

  /** Warning about a line longer than any line of the format (see eachLine). */
  tooLong(l: LongLine): void {
    this.warn(`line of ${l.length} characters, longer than any line of this format: skipped (${excerpt(l.head)})`, l.no);
  }

  done(): ModelWarning[] {
    if (this.suppressed > 0) {
      this.list.push({ message: `${this.suppressed} more warnings like these not shown`, source: { part: this.part } });
      this.suppressed = 0;
    }
    return this.list;
  }
}

/** A line's start, quoted, for messages (never the whole of a long line). */
export function excerpt(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Pass-through drivers (docs/cli-contract.md): FreeBSD ppt, Linux vfio-pci, Xen pciback, pci-stub. */
const PASS_THROUGH = new Set(['ppt', 'vfio-pci', 'pciback', 'xen-pciback', 'pci-stub', 'pci_stub']);
export function isPassThroughDriver(driver: string | undefined): boolean {
  return driver !== undefined && PASS_THROUGH.has(driver);
}

/** `ppt0` → `ppt`, `mlx5_core1` → `mlx5_core`: FreeBSD device name without its unit number. */
export function driverOfUnit(unitName: string): string {
  return unitName.replace(/\d+$/, '');
}
