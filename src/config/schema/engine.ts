/**
 * A faithful re-implementation of keepalived 2.2.7's keyword dispatcher
 * (lib/parser.c process_stream, alloc_value_block, skip_block) working on
 * the lexer's line stream (ParseResult.lines).
 *
 * keepalived's read_line() puts every '{' and '}' on a line of its own, and
 * process_stream() then decides what is a block from its keyword tables, not
 * from the braces. That matters for parity: an unknown keyword followed by a
 * block is reported and its contents are then read as keywords of the
 * ENCLOSING block, whose end is taken at the unknown block's '}'; a stray
 * '{' is ignored, so the next '}' ends the keyword block it is in; a '}'
 * beyond the outermost block still reaches the dispatcher ("Unknown keyword
 * '}'" at the top level, the end of the current block below it). So the
 * lexer's flat stream, braces where they really were, is dispatched, not the
 * tree.
 */
import type { ConfLine, ConfNode } from '../ast';
import { ConfErr, type Reporter } from './diag';

export type Line = ConfLine;

/**
 * The line stream of a tree, for callers that only have ConfNodes. A tree
 * has no stray braces, so this equals the lexer's stream only for
 * configurations whose braces all pair up with a keyword.
 */
export function flatten(nodes: ConfNode[], out: Line[] = []): Line[] {
  for (const n of nodes) {
    const raw = (n as ConfNode & { raw?: unknown }).raw;
    out.push({ tokens: [n.keyword, ...n.args], file: n.file, line: n.line, raw: typeof raw === 'string' ? raw : undefined });
    if (n.children) {
      out.push({ tokens: ['{'], file: n.file, line: n.line });
      flatten(n.children, out);
      const last = n.children.length ? lastLine(n.children[n.children.length - 1]) : n.line;
      out.push({ tokens: ['}'], file: n.file, line: last });
    }
  }
  return out;
}

function lastLine(n: ConfNode): number {
  if (n.children && n.children.length) return lastLine(n.children[n.children.length - 1]);
  return n.line;
}

/** A keyword line as keepalived's handlers see it (vector_t *strvec). */
export class StrVec {
  constructor(
    readonly t: readonly string[],
    private readonly rep: Reporter,
  ) {}

  get size(): number {
    return this.t.length;
  }

  /**
   * A vector whose slot 0 is NULL, as vsg_handler() (check_parser.c) builds
   * for alloc_value_block(): reading that slot is a missing parameter.
   */
  static nullFirst(rest: readonly string[], rep: Reporter): StrVec {
    const t: (string | undefined)[] = [undefined, ...rest];
    return new StrVec(t as string[], rep);
  }

  /**
   * strvec_slot(): a missing word is fatal in keepalived — null_strvec()
   * reports it and exits with status 2 (lib/parser.c).
   */
  slot(i: number): string {
    const v = this.t[i];
    if (v !== undefined) return v;
    if (i > 0 && i - 1 < this.t.length)
      this.rep.missingParameter(
        `*** Configuration line starting \`${this.t[0] ?? '***MISSING ***'}\` is missing a parameter after keyword \`${this.t[i - 1]}\` at word position ${i + 1}`,
      );
    return this.rep.missingParameter(`*** Configuration line starting \`${this.t[0] ?? '***MISSING ***'}\` is missing a parameter at word position ${i + 1}`);
  }

  /** vector_slot(): no check (keepalived would read NULL) */
  raw(i: number): string | undefined {
    return this.t[i];
  }
}

export type Handler = (sv: StrVec | null) => void;

export interface Kw {
  name: string;
  handler?: Handler;
  sub?: Kw[];
  /** install_sublevel_end_handler / install_root_end_handler */
  close?: () => void;
  active: boolean;
}

/** Helper to build keyword tables tersely. */
export function kw(name: string, handler?: Handler, sub?: Kw[], close?: () => void): Kw {
  return { name, handler, sub, close, active: true };
}

/**
 * install_keyword_root(..., active): keepalived installs the sub-keywords
 * (and end handler) of a root keyword only when the block is active in the
 * current process; an inactive root keyword just has its block skipped.
 */
export function root(name: string, active: boolean, handler?: Handler, sub?: Kw[], close?: () => void): Kw {
  return active ? { name, handler, sub, close, active } : { name, handler, active };
}

export class Dispatcher {
  private idx = 0;
  private kwLevel = 0;
  private skipSublevel = 0;
  /** the line most recently read (keepalived's buf_extern) */
  current: Line | null = null;

  constructor(
    private readonly lines: Line[],
    readonly rep: Reporter,
  ) {}

  readLine(): Line | null {
    const l = this.lines[this.idx++];
    if (!l) return null;
    this.current = l;
    this.rep.pos = { file: l.file, line: l.line };
    return l;
  }

  /** skip_block(need_block_start) */
  skipBlock(needBlockStart: boolean): void {
    this.skipSublevel = needBlockStart ? -1 : 1;
  }

  run(root: Kw[]): void {
    this.idx = 0;
    this.kwLevel = 0;
    this.skipSublevel = 0;
    this.processStream(root, false);
  }

  /** lib/parser.c process_stream() */
  private processStream(kws: Kw[], needBobIn: boolean): boolean {
    let needBob = needBobIn;
    let retErr = false;
    for (;;) {
      const line = this.readLine();
      if (!line) break;
      const strvec = line.tokens;
      if (!strvec.length) continue;
      let str = strvec[0];

      if (this.skipSublevel === -1) {
        if (str === '{') {
          this.skipSublevel = 1;
          needBob = false;
          continue;
        }
        this.skipSublevel = 0;
      }
      if (this.skipSublevel) {
        for (const s of strvec) {
          str = s;
          if (s === '{') this.skipSublevel++;
          else if (s === '}') {
            if (--this.skipSublevel === 0) break;
          }
        }
        if (str === '}' && this.skipSublevel === 0 && this.kwLevel > 0) {
          retErr = true;
          break;
        }
        continue;
      }

      if (needBob) {
        needBob = false;
        if (str === '{' && this.kwLevel > 0) continue;
        this.rep.error(ConfErr.MISSING_BOB, `Missing '{' at beginning of configuration block`);
      } else if (str === '{') {
        this.rep.error(ConfErr.UNEXPECTED_BOB, `Unexpected '{' - ignoring`);
        continue;
      }

      if (str === '}' && this.kwLevel > 0) break;

      const k = kws.find((x) => x.name === str);
      if (!k) {
        this.rep.error(ConfErr.UNKNOWN_KEYWORD, `Unknown keyword '${str}'`);
        continue;
      }
      let bobNeeded = false;
      if (!k.active) {
        this.skipSublevel = strvec[strvec.length - 1] === '{' ? 1 : -1;
        if (k.handler) k.handler(null);
      }
      let tokens = strvec;
      if (k.sub) {
        if (tokens[tokens.length - 1] === '{') tokens = tokens.slice(0, -1);
        else bobNeeded = true;
      }
      if (k.active && k.handler) k.handler(new StrVec(tokens, this.rep));
      if (k.sub) {
        this.kwLevel++;
        const ret = this.processStream(k.sub, bobNeeded);
        this.kwLevel--;
        if (!ret && k.active && k.close) k.close();
      }
    }
    return retErr;
  }

  /**
   * lib/parser.c alloc_value_block(): the lines up to the matching '}' are
   * handed one by one to `fn` (virtual_ipaddress, track_script, ...).
   */
  allocValueBlock(sv: StrVec, fn: (v: StrVec) => void): void {
    let needBob = true;
    let hadEob = false;
    /**
     * keepalived's first_vec: the words after a '{' that is a word of the
     * keyword line itself — only a quoted "{" gets there, as read_line()
     * puts a bare one on a line of its own.
     */
    let first: string[] | null = null;
    if (sv.size > 1) {
      if (sv.slot(1) === '{') {
        needBob = false;
        if (sv.size > 2) {
          first = sv.t.slice(2);
          // keepalived tests the last word of the keyword line here
          if (sv.t[sv.size - 1] === '}') {
            first.pop();
            hadEob = true;
          }
          // vector_compact() of nothing is NULL: no first vector, but
          // had_eob stays set, so exactly one more line is read
          if (!first.length) first = null;
        }
      } else {
        // strvec_slot(strvec, 0) of a NULL slot (vsg_handler) exits with a missing parameter
        const name = sv.slot(0);
        this.rep.error(ConfErr.GENERAL_ERROR, `Block ${name} has extra parameters ${sv.slot(1)} ...`);
      }
    }
    if (first) {
      fn(new StrVec(first, this.rep));
      if (hadEob) return;
    }
    for (;;) {
      const line = this.readLine();
      if (!line) break;
      let vec = line.tokens.slice();
      if (!vec.length) continue;
      if (needBob) {
        needBob = false;
        if (vec[0] === '{') {
          if (vec.length === 1) continue;
          vec = vec.slice(1);
        } else this.rep.log(`'{' missing from beginning of block ${sv.slot(0)}`);
      }
      if (vec[vec.length - 1] === '}') {
        if (vec.length === 1) break;
        hadEob = true;
        vec = vec.slice(0, -1);
      }
      if (vec.length) fn(new StrVec(vec, this.rep));
      if (hadEob) break;
    }
  }

  /** read_value_block(): all words of the block in one vector (or null if empty) */
  readValueBlock(sv: StrVec): string[] | null {
    const words: string[] = [];
    this.allocValueBlock(sv, (v) => words.push(...v.t));
    return words.length ? words : null;
  }
}
