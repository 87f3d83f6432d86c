import { execFileSync } from 'node:child_process';
import { captureLive } from '../../capture/live.js';
import { EXIT_OK } from '../errors.js';

/** `dmarsift` runs `dmesg` (util-linux); needs root when kernel.dmesg_restrict is set. */
function readKernelLog(): string | undefined {
  return execFileSync('dmesg', [], { encoding: 'utf8', timeout: 10_000, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** `dmarsift capture --out DIR [--root DIR]`: warnings on stderr as they happen, a summary on stdout. */
export async function run(argv: Record<string, unknown>): Promise<number> {
  const res = captureLive({
    out: String(argv.out),
    root: argv.root === undefined ? '/' : String(argv.root),
    onWarning: (m) => process.stderr.write(`dmarsift: warning: ${m}\n`),
    // Only the live host has a kernel log to ask for; a copied tree (--root) has none.
    ...(argv.root === undefined || argv.root === '/' ? { kernelLog: readKernelLog } : {}),
  });
  if (argv.quiet !== true) {
    const used = res.parts.filter((p) => p.kind !== 'ignored');
    const lines = [`captured ${used.length} part${used.length === 1 ? '' : 's'} into ${res.out}:`];
    for (const p of res.parts) lines.push(`  ${p.kind.padEnd(20)} ${p.path}${p.note ? `  (${p.note})` : ''}`);
    const missing = res.notes.filter((n) => !res.warnings.includes(n));
    if (missing.length > 0) lines.push(`not captured (${missing.length}, see capture.json notes):`, ...missing.map((n) => `  ${n}`));
    lines.push(`next: dmarsift decode ${res.out}   (or analyze)`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  return EXIT_OK;
}
