/** `dmarsift --version` against `node -e 0`: what loading the CLI adds to node's own start-up. */
import { expectExit, measureAlternating, target, type Measured } from './measure.js';

export interface StartupResult {
  node: { ms: number; msAll: number[]; rssKiB: number | null };
  version: { ms: number; msAll: number[]; rssKiB: number | null };
  ratio: number;
  /** CPU time (user + system) of --version ÷ that of node -e 0. */
  cpuRatio: number;
}

export function measureStartup(runs: number, scratch: string): StartupResult {
  const [node, version] = measureAlternating([{ args: ['-e', '0'] }, { args: [target.bin, '--version'] }], runs, scratch);
  expectExit(node, [0], 'node -e 0');
  expectExit(version, [0], 'dmarsift --version');
  const t = (m: Measured) => ({ ms: Math.round(m.ms), msAll: m.msAll, rssKiB: m.rssKiB });
  return { node: t(node), version: t(version), ratio: Math.round((version.ms / node.ms) * 100) / 100, cpuRatio: Math.round((version.cpuMs / node.cpuMs) * 100) / 100 };
}
