/**
 * yargs, loaded where its start-up cost is least. In the bundle (src/tools/bundle.ts) this module
 * is replaced by yargs 17's ES module build, bundled in: no module graph to load one file at a
 * time, and its help layout counts code points instead of running string-width — yargs renders
 * the whole help text after starting every command (to show it on a later failure), which cost
 * string-width ~15–40 ms of every run. Unbundled (tsc's dist/ without esbuild), it is yargs 17's
 * CommonJS build, one file node loads in ~20 ms (yargs 18, ESM only, compiled module by module
 * with an Intl.Segmenter string-width, cost ~100 ms on node 20). `npm run bench` measures it.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';

export const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;
