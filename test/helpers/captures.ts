/**
 * The real kernel captures the tests use live in the repository, at test/fixtures/real/<name>/: byte-exact
 * copies of captures a real Linux 6.1 kernel made under QEMU with an emulated VT-d. Each directory's
 * README.md states the truth the tests assert against (never edit the captures; a test that needs a
 * variation copies the files to a temporary directory and changes the copy).
 *
 * No environment variable and no path outside the repository: a clone stands alone.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** Directory holding one subdirectory per real capture. */
export const CAPTURES: string = path.resolve(import.meta.dirname, '../fixtures/real');

/**
 * Always true: the captures are part of the repository. Kept so that tests written as
 * `describe.skipIf(!HAVE_CAPTURES)` still compile; new tests need no guard.
 */
export const HAVE_CAPTURES = true as const;

/** Absolute path of a capture directory, or of one file in it. Throws on a capture name that does not exist. */
export function capturePath(name: string, file?: string): string {
  const dir = path.join(CAPTURES, name);
  if (!existsSync(dir)) throw new Error(`no real capture named ${JSON.stringify(name)} in ${CAPTURES}`);
  return file === undefined ? dir : path.join(dir, file);
}
