/** How every message and report spells where a fact came from (a model Source). */
import { hex } from '../util/hex.js';
import type { Source } from './types.js';

/** `part:line` for text parts, `part@0xoffset` for binary ones, `part` otherwise; `part` may be renamed for display. */
export function sourceText(s: Source, part: string = s.part): string {
  if (s.line !== undefined) return `${part}:${s.line}`;
  if (s.offset !== undefined) return `${part}@${hex(s.offset)}`;
  return part;
}
