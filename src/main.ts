// Wiring only: config -> engine -> adapters -> observers (shared/design.md).
import { runCli } from './cli/run';

runCli(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`keepwatch: fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
