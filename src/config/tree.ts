/**
 * Block structure: turns the logical lines of preprocess.ts into the ConfNode
 * tree of ast.ts, iteratively (a 10 000-deep nesting cannot overflow the
 * stack here).
 *
 * keepalived 2.2.7 decides block structure with its keyword tables
 * (process_stream() recurses only into keywords that have sub-keywords); the
 * lexical layer has no keyword tables, so the rule is: a `{` line opens a
 * block on the node just before it at the same level (`{` on the keyword
 * line and `{` on the next line are the same thing after splitBraces()), and
 * `}` closes the innermost block. The model layer, which knows the keywords,
 * reports "Missing '{'" for a block keyword without children and a block on
 * a keyword that takes none.
 *
 * The tree cannot show everything keepalived's dispatcher acts on: a `{` that
 * no node owns is dropped (its content is kept at the current level), and so
 * is the `}` that closes it or a `}` beyond the outermost block. keepalived
 * 2.2.7 ignores such a `{` ("Unexpected '{' - ignoring") and the next `}`
 * then ends the keyword block it is in, so everything after it belongs to a
 * different block than the tree says. buildTree() therefore also records the
 * flat line stream (ConfLine[], braces included, in reading order), which
 * the model layer dispatches exactly as process_stream() does.
 */
import type { ConfLine, ConfNode } from './ast';
import { splitWords } from './lexer';
import { DiagSink, Loc, LogicalLine } from './preprocess';

/** Deeper blocks are dropped with one error (real configurations stay under 8). */
export const MAX_BLOCK_DEPTH = 64;

/** A ConfNode as produced by the lexer: it also carries the processed line. */
export interface LexNode extends ConfNode {
  /**
   * The line after comments, conditionals, definitions and ~SEQ/~LST were
   * processed — keepalived's `buf_extern`, which script keywords re-tokenize
   * with splitQuotedEscaped() (see scriptCommand() in parse.ts).
   */
  raw: string;
  children?: LexNode[];
}

export interface LineSource {
  next(): LogicalLine | null;
}

export interface TreeHooks {
  /**
   * Called for every node right after it is added, before the next line is
   * read, with the keywords of the enclosing blocks (outermost first), so a
   * keyword that changes how later lines are read (include_check) takes
   * effect at the right place. The enclosing blocks are keepalived's view,
   * not the tree's: a `}` always ends the innermost keyword block, also when
   * it pairs with a stray `{` (keepalived ignored that `{`).
   */
  onNode?(node: LexNode, enclosing: readonly string[]): void;
}

interface Level {
  children: LexNode[];
  owner: LexNode | null;
  /** last node added at this level: the one a following `{` belongs to */
  last: LexNode | null;
  /** a `{` with no keyword before it: its content goes to the enclosing level */
  transparent: boolean;
  loc: Loc;
}

/**
 * Builds the tree; when `stream` is given, every line read is also appended
 * to it as keepalived's read_line() returns it (see the file comment).
 */
export function buildTree(src: LineSource, diags: DiagSink, hooks: TreeHooks = {}, stream?: ConfLine[]): LexNode[] {
  const root: LexNode[] = [];
  const levels: Level[] = [{ children: root, owner: null, last: null, transparent: false, loc: { file: '', line: 0 } }];
  const enclosing: string[] = [];
  /** `{`s opened beyond MAX_BLOCK_DEPTH and not yet closed */
  let dropped = 0;
  let droppedReported = false;

  for (let ln = src.next(); ln !== null; ln = src.next()) {
    const loc: Loc = { file: ln.file, line: ln.line };
    if (ln.text === '{' || ln.text === '}') stream?.push({ tokens: [ln.text], file: ln.file, line: ln.line });
    if (ln.text === '{') {
      if (dropped > 0) {
        dropped++;
        continue;
      }
      const cur = levels[levels.length - 1]!;
      const owner = cur.last;
      if (levels.length > MAX_BLOCK_DEPTH) {
        dropped = 1;
        if (!droppedReported) {
          droppedReported = true;
          diags.error(loc, `blocks nested deeper than ${MAX_BLOCK_DEPTH} levels - the content of the deeper blocks is ignored`);
        }
        continue;
      }
      if (owner && owner.children === undefined) {
        owner.children = [];
        levels.push({ children: owner.children, owner, last: null, transparent: false, loc: { file: owner.file, line: owner.line } });
        // keepalived 2.2.7 global_parser.c: inside global_defs only
        // notification_email takes a block; any other `{` there is ignored
        // and the `}` after it ends global_defs
        if (!(enclosing.length === 1 && enclosing[0] === 'global_defs' && owner.keyword !== 'notification_email')) enclosing.push(owner.keyword);
      } else {
        // keepalived 2.2.7 process_stream(): "Unexpected '{' - ignoring" and the
        // lines inside are read at the current level.
        diags.error(loc, "Unexpected '{' - ignoring");
        levels.push({ children: cur.children, owner: cur.owner, last: null, transparent: true, loc });
      }
      continue;
    }
    if (ln.text === '}') {
      if (dropped > 0) {
        dropped--;
        continue;
      }
      if (levels.length === 1) {
        // keepalived 2.2.7 read_line(): CONFIG_UNEXPECTED_EOB
        diags.error(loc, "Extra '}' found");
        continue;
      }
      levels.pop();
      // keepalived 2.2.7 process_stream(): the `}` ends the keyword block
      // being read, whichever `{` the tree pairs it with
      enclosing.pop();
      continue;
    }
    const w = splitWords(ln.text);
    // the tree keeps nothing (and reports nothing more) from beyond the depth
    // limit; keepalived has no such limit, so the stream still has the line
    if (w.words.length) stream?.push({ tokens: w.words, file: ln.file, line: ln.line, raw: ln.text });
    if (dropped > 0) continue;
    if (w.error) diags.error(loc, w.error);
    if (w.words.length === 0) continue;
    const node: LexNode = { keyword: w.words[0]!, args: w.words.slice(1), file: ln.file, line: ln.line, raw: ln.text };
    const cur = levels[levels.length - 1]!;
    cur.children.push(node);
    cur.last = node;
    hooks.onNode?.(node, enclosing);
  }

  const open = levels.length - 1 + dropped;
  if (open > 0) {
    // keepalived 2.2.7 init_data(): CONFIG_MISSING_EOB after the last line;
    // we also say where the innermost unclosed block started.
    const inner = levels[levels.length - 1]!;
    const what = inner.owner && !inner.transparent ? `block '${inner.owner.keyword}'` : "the '{'";
    diags.error(inner.loc, `There are ${open} missing '}'s or extra '{'s - ${what} opened here is not closed at the end of the configuration`);
  }
  return root;
}
