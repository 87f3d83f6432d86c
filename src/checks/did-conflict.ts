import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { roles } from '../model/roles.js';
import type { ContextEntry } from '../model/types.js';
import { checkMeta, defineCheck, type Finding } from './types.js';

const meta = checkMeta({
  id: 'did-conflict',
  defaultSeverity: 'error',
  summary: 'within one unit, one DID used with two different second-level table roots',
  description: `## What it means
Two present context (or second-level/nested PASID) entries of one unit carry the same domain id but
point at different second-level page tables.

## Why it matters
The IOTLB and context caches are tagged by DID: invalidating "domain N" flushes both, and cached
translations of one table can be used for the other. One device may DMA through the other's stale
translations — into another VM's or the host's memory.

## How to fix / where to look
The I/O MMU driver allocated the DID twice (a leak or reuse of a freed DID). Restart the affected
VMs; report it to the driver's maintainers with this capture.

Pass-through entries (TT = 10b, PGTT = 100b) and first-level-only PASID entries (PGTT = 001b) do
not count: their DID tags no second-level table. Inputs: tables.`,
  needs: ['tables'],
  messages: {
    didWithTwoTables: (d: { unit: number; did: number; roots: [number, string[]][] }) =>
      `Unit ${hex(d.unit)} uses DID ${d.did} with ${d.roots.length} different page tables (${d.roots.map(([root, bdfs]) => `${hex(root)} for ${bdfs.join(', ')}`).join('; ')}): cached translations of one can serve the other; restart the affected VMs and report the DID reuse.`,
  },
  example: { sample: 'did-conflict' },
});

export const didConflict = defineCheck({
  meta,
  run(snapshot) {
    const r = roles(snapshot);
    const out: Finding[] = [];
    for (const unit of snapshot.units) {
      // Sets, not arrays: a hostile root table can give one (DID, root) 65 536 users.
      const byDid = new Map<number, Map<number, Set<string>>>();
      const ctxOf = new Map<string, ContextEntry>();
      for (const u of r.uses) {
        if (u.unit !== unit || u.type !== 'translated' || u.domain?.kind !== 'second-level' || u.root === undefined) continue;
        const roots = byDid.get(u.did) ?? new Map<number, Set<string>>();
        const users = roots.get(u.root) ?? new Set<string>();
        users.add(u.ctx.bdf);
        if (!ctxOf.has(u.ctx.bdf)) ctxOf.set(u.ctx.bdf, u.ctx);
        roots.set(u.root, users);
        byDid.set(u.did, roots);
      }
      for (const [did, roots] of [...byDid].sort((a, b) => a[0] - b[0])) {
        if (roots.size < 2) continue;
        const list = [...roots].map(([root, users]) => [root, [...users]] as [number, string[]]).sort((a, b) => a[0] - b[0]);
        const first = list[0][1][0];
        // The first of the unit's contexts for that BDF: a map, not a search per DID (a hostile
        // table gives thousands of conflicting DIDs over 65 536 contexts).
        const firstCtx = ctxOf.get(first);
        out.push(finding(meta, {
          messageId: 'didWithTwoTables', data: { unit: unit.registerBase, did, roots: list },
          unit, bdf: first, did, source: firstCtx?.source,
          evidence: { roots: list.map(([root, bdfs]) => ({ root: hex(root), devices: bdfs })) },
        }));
      }
    }
    return ran(out);
  },
});
