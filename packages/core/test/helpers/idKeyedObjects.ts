/**
 * The rule of issue #22 as a scan: member ids (and other untrusted strings) are never keys of a
 * plain object, where `__proto__` changes the prototype and `constructor` or `toString` find
 * Object.prototype's members. Id-keyed records are Maps. The scan flags the shapes that create a
 * plain-object map:
 *
 * - `Record<NodeId, …>` / `Record<MemberId, …>`: an id-keyed object type;
 * - an index signature keyed by an id (`{ [id: string]: … }`, `{ [peer: NodeId]: … }`);
 * - `Record<string, …> = {}`: a plain object built as a string-keyed map;
 * - `Object.fromEntries(… [x.id, …] …)`: ids turned into property names.
 *
 * A line may opt out with `keel-lint-allow-object-map: <why>` on it or on the line before (a
 * null-prototype object, keys that are constants and never input).
 */
export interface Finding {
  readonly line: number;
  readonly rule: string;
  readonly text: string;
}

const RULES: readonly { readonly name: string; readonly re: RegExp }[] = [
  { name: 'id-keyed Record type', re: /Record<\s*(?:NodeId|MemberId)\b/g },
  {
    name: 'index signature keyed by an id',
    re: /\[\s*(?:\w*[iI]d|\w*[mM]ember\w*|\w*[pP]eer\w*|\w*[nN]ode\w*)\s*:\s*(?:string|NodeId|MemberId)\s*\]\s*:/g,
  },
  { name: 'index signature of type NodeId', re: /\[\s*\w+\s*:\s*(?:NodeId|MemberId)\s*\]\s*:/g },
  { name: 'plain object as a string-keyed map', re: /Record<\s*string\s*,[^=;]*>\s*=\s*\{\s*\}/g },
  { name: 'ids as property names', re: /Object\.fromEntries\([^;]{0,300}?\[\s*\w+\.id\s*,/g },
];

const ALLOW = 'keel-lint-allow-object-map:';

/** Blanks comments (keeping line breaks, so line numbers hold); strings are left alone. */
function withoutComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/[^\n]*/g, (c, pre: string) => pre + ' '.repeat(c.length - pre.length));
}

export function findIdKeyedObjects(text: string): Finding[] {
  const lines = text.split('\n');
  const code = withoutComments(text);
  const found: Finding[] = [];
  const seen = new Set<string>();
  for (const { name, re } of RULES) {
    for (const m of code.matchAll(re)) {
      const line = code.slice(0, m.index).split('\n').length;
      const here = lines[line - 1] ?? '';
      const before = lines[line - 2] ?? '';
      if (here.includes(ALLOW) || before.includes(ALLOW)) continue;
      const key = String(line);
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({ line, rule: name, text: here.trim() });
    }
  }
  return found.sort((a, b) => a.line - b.line);
}
