/**
 * Entry points of the lexical layer: keepalived.conf text or file(s) in,
 * ConfNode tree + FILE:LINE diagnostics + list of files read out.
 * Synchronous (fs sync reads), never throws for bad input.
 */
import * as os from 'os';
import * as path from 'path';
import type { ConfLine, ConfNode, ParseOptions, ParseResult } from './ast';
import { splitQuotedEscaped } from './lexer';
import { DiagSink, Preprocessor } from './preprocess';
import { buildTree, LexNode } from './tree';

export { splitQuotedEscaped, splitWords } from './lexer';
export type { LexNode } from './tree';
export { LIMITS } from './preprocess';
export { MAX_BLOCK_DEPTH } from './tree';

/** Extra knobs beyond the shared ParseOptions contract. */
export interface LexOptions {
  /** directory for relative includes and ${_PWD} (parseConfigText); default: the directory of `file` */
  baseDir?: string;
  /** source of ${_RANDOM} values in [0, 1); default Math.random */
  random?: () => number;
}

/**
 * keepalived 2.2.7: the config id defaults to the node name (uname) up to
 * the first '.'.
 */
export function defaultConfigId(): string {
  const h = os.hostname();
  const dot = h.indexOf('.');
  return dot >= 0 ? h.slice(0, dot) : h;
}

/**
 * Parses a configuration file. `path` may be a glob, as keepalived's `-f`
 * (every match is read in order). Relative includes resolve from the
 * directory of the file that contains them.
 */
export function parseConfigFile(file: string, opts: Partial<ParseOptions> & LexOptions = {}): ParseResult {
  const diags = new DiagSink();
  const pre = new Preprocessor(
    { configId: opts.configId ?? defaultConfigId(), allConfig: opts.allConfig ?? false, random: opts.random },
    diags,
  );
  pre.openMain(file, opts.file ?? file, process.cwd());
  return run(pre, diags);
}

/** Parses configuration text; `opts.file` names it in diagnostics. */
export function parseConfigText(text: string, opts: ParseOptions & LexOptions): ParseResult {
  const diags = new DiagSink();
  const pre = new Preprocessor(
    { configId: opts.configId ?? defaultConfigId(), allConfig: opts.allConfig ?? false, random: opts.random },
    diags,
  );
  const baseDir = path.resolve(opts.baseDir ?? path.dirname(path.resolve(opts.file)));
  pre.pushText(text, opts.file, baseDir);
  return run(pre, diags);
}

function run(pre: Preprocessor, diags: DiagSink): ParseResult {
  const lines: ConfLine[] = [];
  const nodes: LexNode[] = buildTree(pre, diags, {
    onNode(node, enclosing) {
      // keepalived 2.2.7: `include_check` is a global_defs keyword whose
      // handler changes how the following includes are checked.
      if (node.keyword === 'include_check' && enclosing.length === 1 && enclosing[0] === 'global_defs') {
        pre.includeCheckSet(node.args, { file: node.file, line: node.line });
      }
    },
  }, lines);
  return { nodes, diagnostics: diags.finish(), lines, files: pre.files };
}

/**
 * The command of a script keyword (notify*, vrrp_script `script`, MISC_CHECK
 * `misc_path`, ...) as keepalived 2.2.7 builds it (lib/notify.c
 * notify_script_init / set_script_params_array): the processed line is
 * re-tokenized with splitQuotedEscaped(); its second word (the quoted
 * command line) is split again into the argv. Words after it are returned
 * as `extra` (notify scripts take `username [groupname]` there).
 *   notify_master "/usr/bin/x 'a b' c" nobody  ->  args [/usr/bin/x, a b, c], extra [nobody]
 */
export function scriptCommand(node: ConfNode): { args: string[]; extra: string[] } | { error: string } {
  const raw = (node as Partial<LexNode>).raw ?? [node.keyword, ...node.args].join(' ');
  const line = splitQuotedEscaped(raw);
  if (line.error) return { error: line.error };
  if (line.words.length < 2 || line.words[1] === '') return { error: `'${node.keyword}' needs a script` };
  const cmd = splitQuotedEscaped(line.words[1]!);
  if (cmd.error) return { error: cmd.error };
  if (cmd.words.length === 0) return { error: `'${node.keyword}' needs a script` };
  return { args: cmd.words, extra: line.words.slice(2) };
}
