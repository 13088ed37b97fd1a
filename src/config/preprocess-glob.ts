/**
 * glob(3) as keepalived 2.2.7 calls it for `include` lines and for the main
 * config file: `glob(pattern, GLOB_MARK | GLOB_BRACE | GLOB_ALTDIRFUNC)` with
 * hooks counting directories that could not be opened and files that could
 * not be lstat()ed (lib/parser.c open_and_check_glob). Node 20 has no
 * fs.globSync, and the counters drive keepalived's include diagnostics, so
 * this is a small glibc-compatible implementation:
 * - csh braces `{a,b}` (nested, empty alternatives), expanded left to right,
 *   each alternative's matches sorted separately (glibc GLOB_BRACE);
 *   an unbalanced `{` is taken literally (glibc "illegal_brace");
 * - `*`, `?`, `[...]` (with `!`/`^` negation, ranges, [:class:]) per path
 *   component; a leading `.` must be matched literally (no GLOB_PERIOD);
 * - `\` quotes the next character;
 * - GLOB_MARK: directories get a trailing `/` (keepalived then skips them
 *   with "is a directory").
 */
import * as fs from 'fs';
import * as path from 'path';

/** Brace alternatives beyond this are refused (glibc would try 2^N patterns). */
export const MAX_BRACE_EXPANSIONS = 4096;
/** Matches beyond this are refused (a `*` over a huge directory). */
export const MAX_GLOB_MATCHES = 10000;

export interface GlobResult {
  /** matches in glibc order, relative to cwd when the pattern is relative; dirs end in `/` */
  paths: string[];
  /** literal components that did not exist + directories that could not be opened */
  missing: number;
  /** a wildcard component was expanded (keepalived's have_wildcards) */
  haveWildcards: boolean;
  /** a limit was hit; paths is empty */
  error?: string;
}

/** keepalived have_brace(): an unescaped `{` anywhere. */
export function hasBrace(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '{') return true;
  }
  return false;
}

/** Expands csh-style braces the way glibc's GLOB_BRACE does. */
export function braceExpand(pattern: string, limit = MAX_BRACE_EXPANSIONS): string[] | null {
  const out: string[] = [];
  // iterative work list to avoid recursion on long patterns
  const work: string[] = [pattern];
  while (work.length) {
    const p = work.pop()!;
    const open = findUnescaped(p, '{', 0);
    if (open < 0) {
      out.push(p);
      if (out.length > limit) return null;
      continue;
    }
    // find the matching close brace and the top-level commas
    let depth = 0;
    let close = -1;
    const commas: number[] = [];
    for (let i = open + 1; i < p.length; i++) {
      const c = p[i];
      if (c === '\\') {
        i++;
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}') {
        if (depth === 0) {
          close = i;
          break;
        }
        depth--;
      } else if (c === ',' && depth === 0) commas.push(i);
    }
    if (close < 0) {
      // glibc: an invalid brace expression is handled as if GLOB_BRACE were not set
      out.push(p);
      if (out.length > limit) return null;
      continue;
    }
    const prefix = p.slice(0, open);
    const suffix = p.slice(close + 1);
    const bounds = [open, ...commas, close];
    const alts: string[] = [];
    for (let k = 0; k + 1 < bounds.length; k++) alts.push(prefix + p.slice(bounds[k]! + 1, bounds[k + 1]) + suffix);
    if (out.length + work.length + alts.length > limit) return null;
    // push in reverse so the first alternative is expanded first
    for (let k = alts.length - 1; k >= 0; k--) work.push(alts[k]!);
  }
  return out;
}

function findUnescaped(s: string, ch: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === ch) return i;
  }
  return -1;
}

/** glibc __glob_pattern_p: unescaped `*`, `?`, or `[` with a closing `]`. */
export function isMagic(component: string): boolean {
  for (let i = 0; i < component.length; i++) {
    const c = component[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '*' || c === '?') return true;
    if (c === '[' && component.indexOf(']', i + 2) > i) return true;
  }
  return false;
}

function unescapeLiteral(component: string): string {
  return component.includes('\\') ? component.replace(/\\(.)/gs, '$1') : component;
}

const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

function escapeClassChar(c: string): string {
  return /[\\\]\[\^\-]/.test(c) ? `\\${c}` : c;
}

/** fnmatch(3) of one path component (no FNM_PERIOD: handled by the caller). */
export function componentRegex(component: string): RegExp {
  let re = '^';
  const n = component.length;
  for (let i = 0; i < n; i++) {
    const c = component[i]!;
    if (c === '\\') {
      if (i + 1 < n) {
        i++;
        re += escapeRe(component[i]!);
      } else re += '\\\\';
      continue;
    }
    if (c === '*') {
      re += '[\\s\\S]*';
      continue;
    }
    if (c === '?') {
      re += '[\\s\\S]';
      continue;
    }
    if (c === '[') {
      const parsed = parseBracket(component, i);
      if (parsed) {
        re += parsed.re;
        i = parsed.end;
        continue;
      }
      re += '\\[';
      continue;
    }
    re += escapeRe(c);
  }
  re += '$';
  return new RegExp(re, 'u');
}

function parseBracket(s: string, open: number): { re: string; end: number } | null {
  let i = open + 1;
  let neg = false;
  if (s[i] === '!' || s[i] === '^') {
    neg = true;
    i++;
  }
  let body = '';
  let first = true;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ']' && !first) {
      return { re: `[${neg ? '^' : ''}${body}]`, end: i };
    }
    first = false;
    if (c === '[' && s[i + 1] === ':') {
      const close = s.indexOf(':]', i + 2);
      if (close > 0) {
        const cls = CLASSES[s.slice(i + 2, close)];
        if (cls !== undefined) {
          body += cls;
          i = close + 2;
          continue;
        }
      }
    }
    let lit = c;
    if (c === '\\' && i + 1 < s.length) {
      i++;
      lit = s[i]!;
    }
    if (s[i + 1] === '-' && i + 2 < s.length && s[i + 2] !== ']') {
      let hi = s[i + 2]!;
      let adv = 2;
      if (hi === '\\' && i + 3 < s.length) {
        hi = s[i + 3]!;
        adv = 3;
      }
      if (hi >= lit) body += `${escapeClassChar(lit)}-${escapeClassChar(hi)}`;
      i += adv + 1;
      continue;
    }
    body += escapeClassChar(lit);
    i++;
  }
  return null;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function startsWithLiteralDot(component: string): boolean {
  return component.startsWith('.') || component.startsWith('\\.');
}

function isDirFollow(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * glob(pattern) relative to `cwd` (an absolute directory).
 * Returned paths are spelled like glibc's: relative patterns give relative
 * results, absolute give absolute.
 */
export function glob(pattern: string, cwd: string): GlobResult {
  const res: GlobResult = { paths: [], missing: 0, haveWildcards: false };
  const alts = braceExpand(pattern);
  if (!alts) {
    return { ...res, error: `more than ${MAX_BRACE_EXPANSIONS} brace alternatives` };
  }
  for (const alt of alts) {
    const got = globOne(alt, cwd, res);
    if (got === null) {
      return { paths: [], missing: res.missing, haveWildcards: res.haveWildcards, error: `more than ${MAX_GLOB_MATCHES} matches` };
    }
    got.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const g of got) res.paths.push(g);
    if (res.paths.length > MAX_GLOB_MATCHES) {
      return { paths: [], missing: res.missing, haveWildcards: res.haveWildcards, error: `more than ${MAX_GLOB_MATCHES} matches` };
    }
  }
  return res;
}

function globOne(pattern: string, cwd: string, acc: GlobResult): string[] | null {
  if (pattern === '') return [];
  const absolute = pattern.startsWith('/');
  const comps = pattern.split('/').filter((c) => c !== '');
  // prefixes are spelled as in the result ('' = cwd)
  let prefixes: string[] = [absolute ? '/' : ''];
  if (comps.length === 0) {
    // the pattern was only slashes: the root directory (GLOB_MARK form)
    return ['/'];
  }
  for (let k = 0; k < comps.length; k++) {
    const comp = comps[k]!;
    const last = k === comps.length - 1;
    const next: string[] = [];
    if (isMagic(comp)) {
      acc.haveWildcards = true;
      const re = componentRegex(comp);
      const dotOk = startsWithLiteralDot(comp);
      for (const pre of prefixes) {
        const dirAbs = path.resolve(cwd, pre === '' ? '.' : pre);
        let names: string[];
        try {
          names = fs.readdirSync(dirAbs);
        } catch {
          acc.missing++; // keepalived gl_opendir(): missing_directories++
          continue;
        }
        for (const name of names) {
          if (name.startsWith('.') && !dotOk) continue;
          if (!re.test(name)) continue;
          const p = pre + name;
          if (!last) {
            if (!isDirFollow(path.resolve(cwd, p))) continue;
            next.push(p + '/');
          } else next.push(p);
          if (next.length > MAX_GLOB_MATCHES) return null;
        }
      }
    } else {
      const lit = unescapeLiteral(comp);
      for (const pre of prefixes) {
        const p = pre + lit;
        if (!exists(path.resolve(cwd, p))) {
          acc.missing++; // keepalived gl_lstat(): missing_files++
          continue;
        }
        next.push(last ? p : p + '/');
      }
    }
    prefixes = next;
    if (prefixes.length === 0) break;
  }
  // GLOB_MARK
  return prefixes.map((p) => (!p.endsWith('/') && isDirFollow(path.resolve(cwd, p)) ? p + '/' : p));
}
