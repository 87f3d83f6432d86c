/**
 * Which captures a fleet run analyses (src/fleet/discover.ts): with --recursive a directory holding
 * capture.json or a recognised part is a capture (not searched further), others are searched and,
 * holding none, skipped and listed; a link to a directory found already is skipped, not analysed
 * twice. Labels are paths below the directory searched (below each one, with several).
 */
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCaptures } from '../../src/fleet/discover.js';
import { REPO } from '../helpers/cli.js';

function tree(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'dmarsift-discover-'));
  mkdirSync(path.join(root, 'a'));
  writeFileSync(path.join(root, 'a', 'capture.json'), '{"parts": []}');
  mkdirSync(path.join(root, 'a', 'debugfs')); // a capture's own subdirectory: a part, not a capture
  mkdirSync(path.join(root, 'rack', 'b', 'sub'), { recursive: true });
  copyFileSync(path.join(REPO, 'samples', 'bhyve-host', 'DMAR'), path.join(root, 'rack', 'b', 'DMAR'));
  mkdirSync(path.join(root, 'notes'));
  writeFileSync(path.join(root, 'notes', 'README.md'), '# not a capture\n');
  mkdirSync(path.join(root, 'empty'));
  symlinkSync(path.join(root, 'a'), path.join(root, 'link-a'));
  return root;
}

describe('findCaptures', () => {
  it('--recursive: captures by manifest or by a recognised part; the rest skipped and listed', () => {
    const root = tree();
    const found = findCaptures([root + '/'], true);
    expect(found.captures).toEqual([
      { path: path.join(root, 'a'), label: 'a' },
      { path: path.join(root, 'rack', 'b'), label: 'rack/b' },
    ]);
    expect(found.skipped).toEqual([
      { path: path.join(root, 'empty'), reason: 'no capture part in it' },
      { path: path.join(root, 'link-a'), reason: 'the same directory as a' },
      { path: path.join(root, 'notes'), reason: 'no capture part in it' },
    ]);
  });

  it('with several roots each label keeps its root; a root that is a capture is labelled by its path', () => {
    const root = tree();
    const found = findCaptures([path.join(root, 'rack'), path.join(root, 'a')], true);
    expect(found.captures.map((c) => c.label)).toEqual([path.join(root, 'rack', 'b'), path.join(root, 'a')]);
  });

  it('a path that does not exist is a capture (its row says why it cannot be read); without --recursive every path is one', () => {
    const root = tree();
    expect(findCaptures([path.join(root, 'nope')], true).captures).toEqual([{ path: path.join(root, 'nope'), label: path.join(root, 'nope') }]);
    expect(findCaptures([root + '/', 'x'], false).captures).toEqual([{ path: root + '/', label: root }, { path: 'x', label: 'x' }]);
  });
});
