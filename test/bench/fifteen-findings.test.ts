import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fifteenFindings } from '../../src/bench/report-timing.js';
import { loadCapture } from '../../src/capture/load.js';
import { runChecksWithStatus } from '../../src/checks/run.js';

describe('the bench\'s findings-table capture', () => {
  it('holds exactly the 15 findings the target names: seven unmapped VFs, their seven IR warnings, the opt-in info', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-fifteen-'));
    try {
      const findings = runChecksWithStatus(loadCapture(fifteenFindings(path.resolve(import.meta.dirname, '../..'), root))).findings;
      const count = (check: string) => findings.filter((f) => f.check === check).length;
      expect(findings).toHaveLength(15);
      expect([count('ppt-unmapped'), count('ir-off-with-assigned'), count('dmar-opt-in')]).toEqual([7, 7, 1]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
