/**
 * Line handling shared by the inventory/VM/memory-map/dmardump text readers: CRLF and lone CR
 * tolerated, 1-based line numbers kept, and a bounded warning list (a pasted binary or a huge
 * unrelated log must not produce a million warnings).
 */
import type { ModelWarning } from '../model/types.js';

export interface Line {
  /** The line without its line terminator (CR of CRLF removed). */
  text: string;
  /** 1-based line number in the file. */
  no: number;
}

export function textLines(text: string): Line[] {
  const raw = text.split('\n');
  const out: Line[] = new Array<Line>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    let t = raw[i];
    if (t.endsWith('\r')) t = t.slice(0, -1);
    out[i] = { text: t, no: i + 1 };
  }
  // A final newline leaves one empty string behind: not a line of its own.
  if (out.length > 1 && out[out.length - 1].text === '') out.pop();
  return out;
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
    const shown = l.text.length > 60 ? `${l.text.slice(0, 60)}…` : l.text;
    this.warn(`line not recognised as ${what}, skipped: ${JSON.stringify(shown)}`, l.no);
  }

  done(): ModelWarning[] {
    if (this.suppressed > 0) {
      this.list.push({ message: `${this.suppressed} more warnings like these not shown`, source: { part: this.part } });
      this.suppressed = 0;
    }
    return this.list;
  }
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
