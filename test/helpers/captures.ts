/**
 * Where the real kernel captures live (never edited, never copied into the repo): $DMARSIFT_CAPTURES,
 * else ../shared/captures beside the repository, else /work/shared/captures. Tests that need them
 * use `describe.skipIf(!HAVE_CAPTURES)` so a clone without them still runs everything else.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const candidates = [
  process.env.DMARSIFT_CAPTURES,
  path.resolve(import.meta.dirname, '../../../shared/captures'),
  '/work/shared/captures',
].filter((p): p is string => typeof p === 'string' && p !== '');

export const CAPTURES: string = candidates.find((p) => existsSync(path.join(p, 'qemu-linux61-legacy'))) ?? candidates[0];
export const HAVE_CAPTURES: boolean = existsSync(path.join(CAPTURES, 'qemu-linux61-legacy'));

/** Absolute path of a capture directory, or of one file in it. */
export function capturePath(name: string, file?: string): string {
  return file === undefined ? path.join(CAPTURES, name) : path.join(CAPTURES, name, file);
}
