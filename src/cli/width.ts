/** The width reports are laid out to (kept apart from common.ts so `--help` loads nothing else). */

/**
 * Columns a table may take: `COLUMNS` when it is a width (a user's or a script's choice, also for
 * a file or pipe), else the terminal's width on a TTY, else 80. Never below 20: nothing fits less.
 */
export function outputWidth(out: { readonly isTTY: boolean }): number {
  const env = process.env.COLUMNS;
  if (env !== undefined && /^\s*\d+\s*$/.test(env) && Number(env) > 0) return Math.max(20, Number(env));
  if (out.isTTY && process.stdout.columns) return Math.max(20, process.stdout.columns);
  return 80;
}
