// Placeholder until the CLI lands (issue 3).
export async function runCli(_argv: string[]): Promise<number | void> {
  return 0;
}
