import { isTerminal } from './terminal.js';

/**
 * A one-line progress display on stderr: only on a TTY, never with --quiet, redrawn at most ten
 * times a second, erased when done so it never mixes with the report.
 */
export interface Progress {
  update(text: string): void;
  done(): void;
}

const NONE: Progress = { update() {}, done() {} };

export function stderrProgress(argv: Record<string, unknown>): Progress {
  if (argv.quiet === true || !isTerminal(2)) return NONE;
  let last = 0;
  let shown = false;
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const width = Math.max(20, (process.stderr.columns ?? 80) - 1);
      process.stderr.write(`\r\x1b[2K${text.slice(0, width)}`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`;
}
