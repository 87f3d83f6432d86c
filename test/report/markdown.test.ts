import { describe, expect, it } from 'vitest';
import { evidenceBlock, mdCode, mdEscape, mdFence, renderMarkdown } from '../../src/report/markdown.js';
import { checks, findings, RAN, snapshot, TOOL } from './fixture.js';

describe('renderMarkdown', () => {
  const md = renderMarkdown({ snapshot: snapshot(), findings: findings(), checks: checks(), ran: RAN, tool: TOOL });

  it('starts with the capture path and tool version', () => {
    const head = md.split('\n').slice(0, 6);
    expect(head[0]).toBe('## dmarsift report');
    expect(head).toContain('- Capture: `/captures/host 1`');
    expect(head).toContain('- Tool: dmarsift 9.8.7');
    expect(md).toContain('- Model: 2 units, 3 present contexts, 2 domains');
  });

  it('has a summary table with every severity', () => {
    expect(md).toContain('| severity | findings |\n|---|---:|\n| critical | 2 |\n| error | 1 |\n| warning | 0 |\n| info | 1 |');
    expect(md).toContain('Checks not run: `did-conflict`');
  });

  it('gives each finding a heading, its message, a details block with evidence, explanation and doc link', () => {
    const sections = md.split(/^### \d+\. /m).slice(1);
    expect(sections).toHaveLength(4);
    expect(sections[0].startsWith('[CRITICAL] hpa-leak-iommu-structures — 0000:03:00.0, unit 0xfed90000, DID 65535')).toBe(true);
    for (const s of sections) {
      expect(s).toContain('<details>');
      expect(s).toContain('</details>');
      expect(s).toMatch(/<summary>Evidence and explanation of [a-z-]+<\/summary>\n\n/);
    }
    const ppt = sections[1];
    // Scalar evidence as a small table; HTML-looking text in the message escaped.
    expect(ppt).toContain('Assigned device 0000:00:02.0 \\<has> "pass-through" & raw DMA.');
    expect(ppt).toContain('- Source: `memory.elf@0x1001100`');
    expect(ppt).toContain('[docs/checks/ppt-passthrough.md](docs/checks/ppt-passthrough.md)');
    expect(ppt).toContain('**ppt-passthrough** — an assigned device is pass-through.');
    // Nested evidence as fenced JSON.
    expect(sections[0]).toContain('```json\n{\n  "pages": [\n    {\n      "hpa": "0x1002000"');
    expect(sections[0]).toContain('- Severity: critical (the domain belongs to VM guest1)');
    expect(sections[2]).toContain('| slptptr | `0x2000000` |');
    expect(sections[2]).toContain('| inInventory | `false` |');
    expect(sections[3]).toContain('_No evidence recorded._');
  });

  it('ends with the capture warnings', () => {
    const at = md.indexOf('### Capture warnings');
    expect(at).toBeGreaterThan(md.lastIndexOf('</details>'));
    expect(md.slice(at)).toBe(
      '### Capture warnings\n\n- `memory.elf@0x2000`: page 0x5000000 of the PASID directory is not in the image\n- `dmesg.txt:12`: unrecognised line kept as a note\n- no HAW in capture\n',
    );
  });

  it('has no runs of blank lines and ends with a newline', () => {
    expect(md).not.toMatch(/\n\n\n/);
    expect(md.endsWith('\n')).toBe(true);
  });

  it('says so when there are no findings', () => {
    const none = renderMarkdown({ snapshot: snapshot(), findings: [], checks: checks(), tool: TOOL });
    expect(none).toContain('### Findings\n\nNo findings.\n');
    expect(none).not.toContain('<details>');
  });
});

describe('markdown escaping', () => {
  it('escapes what would change meaning, leaves intraword underscores alone', () => {
    expect(mdEscape('a *b* <x> `c` CONFIG_DMAR_DEBUG _em_')).toBe('a \\*b\\* \\<x> \\`c\\` CONFIG_DMAR_DEBUG \\_em_');
    expect(mdEscape('# not a heading')).toBe('\\# not a heading');
    expect(mdEscape('see [x](y)')).toBe('see \\[x](y)');
  });
  it('fences survive backticks inside', () => {
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdFence('json', 'x\n```\ny')).toBe('````json\nx\n```\ny\n````');
    expect(evidenceBlock({ a: 'p|q' })).toBe('| field | value |\n|---|---|\n| a | `p\\|q` |');
  });
});

describe('renderMarkdown with 250 findings of one check', () => {
  it('has a section for each of the first 100 and one line counting the other 150', () => {
    const one = findings()[0];
    const many = Array.from({ length: 250 }, (_, i) => ({ ...one, check: 'stale-context', did: i, bdf: `0000:03:${(i >> 3).toString(16).padStart(2, '0')}.${i & 7}` }));
    const md = renderMarkdown({ snapshot: snapshot(), findings: many, checks: checks(), ran: RAN, tool: TOOL });
    expect(md.split('\n').filter((l) => /^### \d+\. \[/.test(l))).toHaveLength(100);
    expect(md).toContain('… and 150 more stale-context findings');
  });
});
