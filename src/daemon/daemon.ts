import type { CliOptions } from '../cli/args';

// Filled in as the engine lands (issue 4).
export async function runDaemon(_o: CliOptions): Promise<number> {
  process.stderr.write('keepwatch: daemon mode is not available yet\n');
  return 2;
}
