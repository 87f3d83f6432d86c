/**
 * Whether standard output or error is a terminal, without making `process.stdout` or
 * `process.stderr` when it cannot be one. node makes those streams on first use, loading its
 * stream and tty modules (~2–4 ms of every run, more for a pipe); dmarsift writes its reports with
 * fs.writeSync (output.ts), so a run whose output goes to a file or a pipe need never make them.
 * Only a character device can be a terminal (so can /dev/null: then node is asked).
 */
import * as fs from 'node:fs';

export function isTerminal(fd: 1 | 2): boolean {
  try {
    if (!fs.fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false; // closed
  }
  return (fd === 1 ? process.stdout : process.stderr).isTTY === true;
}
