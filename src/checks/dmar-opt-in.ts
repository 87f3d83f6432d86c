import { hex } from '../util/hex.js';
import { finding, ran } from './finding.js';
import { checkMeta, defineCheck } from './types.js';

const meta = checkMeta({
  id: 'dmar-opt-in',
  defaultSeverity: 'info',
  summary: 'the DMAR DMA-control platform opt-in flag is clear (most servers; matters for OS DMA protection)',
  description: `## What it means
Bit 2 of the DMAR table's Flags (DMA_CTRL_PLATFORM_OPT_IN) is clear: the firmware does not promise
that it protected memory from DMA up to the OS hand-off.

## Why it matters
Operating systems use the flag to decide on pre-boot/Thunderbolt DMA protection (Linux enables the
I/O MMU by default for it, Windows Kernel DMA Protection requires it). Most servers leave it clear;
it does not affect pass-through once the OS enabled the I/O MMU.

## How to fix / where to look
Firmware setting ("Kernel DMA protection", "pre-boot DMA protection"); otherwise enable the I/O MMU
explicitly (\`intel_iommu=on\`). Inputs: dmar.`,
  needs: ['dmar'],
  messages: {
    optInClear: 'The DMAR table\'s DMA_CTRL_PLATFORM_OPT_IN flag is clear: the OS cannot rely on firmware DMA protection before it enables the I/O MMU; enable the I/O MMU explicitly if that matters.',
  },
  example: { sample: 'bhyve-host' },
});

export const dmarOptIn = defineCheck({
  meta,
  run(snapshot) {
    const d = snapshot.dmar;
    if (d === undefined || d.dmaCtrlPlatformOptIn) return ran([]);
    return ran([finding(meta, {
      messageId: 'optInClear',
      source: { part: snapshot.capture.parts.find((x) => x.kind === 'dmar')?.path ?? 'dmar', offset: 37 },
      evidence: { flags: hex(d.flags) },
    })]);
  },
});
