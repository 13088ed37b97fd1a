/** Shared helpers of the config-lexer*.test.ts files. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ConfNode, ParseResult } from '../../src/config/ast';
import { parseConfigText } from '../../src/config/parse';
import type { LexOptions } from '../../src/config/parse';

/** Parses text named k.conf with config id `kt`. */
export function p(text: string, opts: Partial<{ configId: string; allConfig: boolean; file: string }> & LexOptions = {}): ParseResult {
  return parseConfigText(text, { file: 'k.conf', configId: 'kt', ...opts });
}

/** Compact view of a tree: "LINE:keyword arg arg" with children nested in arrays. */
export type Shape = string | [string, Shape[]];
export function shape(nodes: ConfNode[]): Shape[] {
  return nodes.map((n) => {
    const s = `${n.line}:${[n.keyword, ...n.args].join(' ')}`;
    return n.children ? ([s, shape(n.children)] as Shape) : s;
  });
}

/** "SEVERITY FILE:LINE message" for each diagnostic. */
export function diag(r: ParseResult): string[] {
  return r.diagnostics.map((d) => `${d.severity} ${d.file}:${d.line} ${d.message}`);
}

export function errors(r: ParseResult): string[] {
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line} ${d.message}`);
}

/** A fresh temporary directory with files written from a map of relative path -> content. */
export function tmpTree(files: Record<string, string | Buffer>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-lexer-'));
  for (const [rel, content] of Object.entries(files)) {
    const f = path.join(dir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
  }
  return dir;
}

/** Deterministic pseudo-random generator (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
