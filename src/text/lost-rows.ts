/**
 * Rows a text dump of context entries could not read. Both dumps (Linux debugfs
 * dmar_translation_struct, FreeBSD dmardump) print one row per present context entry in bus and
 * devfn order, so a row that cannot be read (a file cut short, a garbled line) hides the entries
 * between the rows read around it — or just its own entry when the line still names it. Those
 * entries are unknown, not absent: the model states them as unreadable context tables, one per bus,
 * as a memory walk does (src/model/known.ts).
 */
import type { UnreadableTable } from '../model/types.js';
import { hexDigits } from '../util/hex.js';

/** End of a unit's list: one past bus 0xff devfn 0xff. */
const END = 0x10000;

export class LostRows {
  private readonly ranges: { from: number; to: number; line: number }[] = [];
  private open: { from: number; line: number } | undefined;
  /** Key (bus << 8 | devfn) of the last row read, or the last key before a bus header. */
  private last = -1;

  /** A row read: it ends the range an unreadable row before it opened. */
  read(key: number): void {
    this.close(key);
    this.last = key;
  }

  /** Nothing before `key` follows (a bus header: the next rows are on that bus or later). */
  boundary(key: number): void {
    this.close(key);
    this.last = Math.max(this.last, key - 1);
  }

  /** A row that could not be read; `key` when the line still names its entry. */
  lost(line: number, key?: number): void {
    if (key !== undefined) this.ranges.push({ from: key, to: key, line });
    else if (!this.open) this.open = { from: this.last + 1, line };
  }

  /** The end of the unit's list (next unit, end of file). */
  end(): void {
    this.close(END);
  }

  private close(next: number): void {
    if (this.open && next - 1 >= this.open.from) this.ranges.push({ from: this.open.from, to: next - 1, line: this.open.line });
    this.open = undefined;
  }

  /** The hidden entries as unknown context-table parts, one per bus; `ctp` gives a bus's table address when known. */
  tables(part: string, ctp: (bus: number, devfn: number) => number = () => 0): UnreadableTable[] {
    this.end();
    const out: UnreadableTable[] = [];
    const bdf = (key: number): string => `${hexDigits(key >> 8, 2)}:${hexDigits((key >> 3) & 31, 2)}.${key & 7}`;
    for (const r of this.ranges) {
      // One message for the whole range, so that reports can show it once.
      const what = r.from === r.to ? `the context entry of ${bdf(r.from)}` : `the context entries from ${bdf(r.from)} to ${bdf(r.to)}`;
      const message = `${part}:${r.line}: a row that could not be read hides ${what}`;
      for (let bus = r.from >> 8; bus <= r.to >> 8; bus++) {
        const devfns: [number, number] = [bus === r.from >> 8 ? r.from & 0xff : 0, bus === r.to >> 8 ? r.to & 0xff : 0xff];
        out.push({ structure: 'context', addr: ctp(bus, devfns[0]), bus, devfns, message });
      }
    }
    return out;
  }
}
