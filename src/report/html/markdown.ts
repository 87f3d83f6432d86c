/**
 * A safe subset of Markdown for the checks' descriptions (CheckMeta.description): headings,
 * paragraphs, bullet and numbered lists (nested by indentation), fenced code, and inline code,
 * **bold**, *emphasis* and [links](https://…). Everything is escaped first; the only tags in the
 * output are the ones this file writes, and a link is kept only for an absolute http(s) URL.
 */
import { esc, safeHref } from './escape.js';

/** Inline spans of one escaped-as-we-go line. */
export function inline(text: string): string {
  let out = '';
  // Code spans first: their content is literal (no emphasis, no links inside).
  const parts = text.split(/(`+)([\s\S]*?)\1/);
  for (let i = 0; i < parts.length; i++) {
    if (i % 3 === 0) out += emphasis(parts[i]);
    else if (i % 3 === 2) out += `<code>${esc(parts[i].trim() === '' ? parts[i] : parts[i].replace(/^ (.*) $/, '$1'))}</code>`;
  }
  return out;
}

function emphasis(text: string): string {
  // Links: [label](url) with an absolute http(s) URL; anything else stays as text.
  let out = '';
  const re = /\[([^\]\n]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out += strong(text.slice(last, m.index));
    const href = /^https?:/i.test(m[2]) ? safeHref(m[2]) : undefined;
    out += href !== undefined ? `<a href="${esc(href)}" rel="noopener noreferrer">${strong(m[1])}</a>` : strong(m[0]);
    last = m.index + m[0].length;
  }
  return out + strong(text.slice(last));
}

function strong(text: string): string {
  return esc(text)
    .replace(/\*\*(?=\S)([^*]+?)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[\s(])\*(?=\S)([^*]+?)\*(?=$|[\s.,;:)])/g, '$1<em>$2</em>')
    .replace(/(^|[\s(])_(?=\S)([^_]+?)_(?=$|[\s.,;:)])/g, '$1<em>$2</em>');
}

interface ListFrame {
  indent: number;
  tag: 'ul' | 'ol';
}

/** Render a description. Headings are demoted to `<h5>` (they sit inside a finding or a section). */
export function renderMarkdown(md: string): string {
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let para: string[] = [];
  const lists: ListFrame[] = [];
  let item: string[] | undefined; // text of the open list item

  const flushPara = (): void => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
  };
  const flushItem = (): void => {
    if (item !== undefined) out.push(inline(item.join(' ')));
    item = undefined;
  };
  const closeLists = (toIndent: number): void => {
    while (lists.length > 0 && lists[lists.length - 1].indent > toIndent) {
      flushItem();
      out.push(`</li></${lists.pop()!.tag}>`);
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      flushPara();
      closeLists(-1);
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence[1]); i++) body.push(lines[i]);
      out.push(`<pre><code>${esc(body.join('\n'))}</code></pre>`);
      continue;
    }
    if (line.trim() === '') {
      flushPara();
      flushItem();
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flushPara();
      closeLists(-1);
      out.push(`<h5>${inline(heading[2])}</h5>`);
      continue;
    }
    const li = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    if (li) {
      flushPara();
      const indent = li[1].length;
      const tag: ListFrame['tag'] = /\d/.test(li[2]) ? 'ol' : 'ul';
      closeLists(indent);
      const top = lists[lists.length - 1];
      if (top === undefined || indent > top.indent) {
        flushItem();
        lists.push({ indent, tag });
        out.push(`<${tag}><li>`);
      } else {
        flushItem();
        if (top.tag !== tag) {
          out.push(`</li></${top.tag}><${tag}><li>`);
          top.tag = tag;
        } else out.push('</li><li>');
      }
      item = [li[3]];
      continue;
    }
    if (lists.length > 0 && /^\s+\S/.test(line) && item !== undefined) {
      item.push(line.trim()); // continuation of a list item
      continue;
    }
    closeLists(-1);
    para.push(line.trim());
  }
  flushPara();
  closeLists(-1);
  return out.join('');
}
