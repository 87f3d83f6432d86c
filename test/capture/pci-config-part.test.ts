/**
 * A part declared `pci-config` in capture.json is judged binary or text by the sniffer's own test
 * (looksBinary), not by a NUL in its first bytes: binary bytes without a NUL are not read as a
 * text dump line by line, and a binary file too large for a config space is one clear error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCapture } from '../../src/capture/load.js';
import { InputError } from '../../src/errors.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function captureWith(bytes: Uint8Array): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dmarsift-pcicfg-'));
  dirs.push(d);
  fs.writeFileSync(path.join(d, '0000:03:00.0.config'), bytes);
  fs.writeFileSync(path.join(d, 'capture.json'), JSON.stringify({ parts: [{ kind: 'pci-config', path: '0000:03:00.0.config' }] }));
  return d;
}

/** Binary without a NUL byte: every value 1-255 in turn (control characters far above 1 in 20). */
const noNul = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i % 255) + 1);

describe('a declared pci-config part', () => {
  it('binary without a NUL and over 64 KiB: one error naming the file, not hundreds of text warnings', () => {
    const d = captureWith(noNul(100_000));
    let err: unknown;
    try {
      loadCapture(d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).message).toMatch(/larger than/);
    expect((err as InputError).file).toMatch(/0000:03:00\.0\.config$/);
  });
  it('binary without a NUL of a config space\'s size: read as sysfs bytes (vendor/device from offset 0)', () => {
    const s = loadCapture(captureWith(noNul(256)));
    const dev = s.devices.find((x) => x.bdf === '0000:03:00.0');
    expect([dev?.config?.size, dev?.config?.header.vendorId, dev?.config?.header.deviceId]).toEqual([256, 0x0201, 0x0403]);
  });
});
