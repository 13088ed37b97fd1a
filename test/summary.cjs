// Sums vitest's JSON reports into the one line CI reads: "N passed, N failed".
// A suite whose report is missing (crashed runner) counts as one failure.
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests || 0);
    // a test file that failed to load has no tests but a failed suite
    failed += r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
  } catch (e) {
    console.error(`summary: unreadable report ${f}: ${e.message}`);
    failed += 1;
  }
}
if (process.env.CI === 'true' && skipped > 0) {
  console.error(`summary: ${skipped} test(s) skipped under CI=true`);
  failed += skipped;
  skipped = 0;
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 ? 1 : 0);
