import type { Readable } from 'node:stream';

/**
 * Calls `cb` with each complete line a child's stream prints (UTF-8, "\n" removed).
 * `rest()` is the unterminated tail, for callers that flush it when the process exits.
 */
export function onLines(stream: Readable, cb: (line: string) => void): { rest(): string } {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    partial += d;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      cb(line);
    }
  });
  return { rest: () => partial };
}
