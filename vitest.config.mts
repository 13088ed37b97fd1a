import { defineConfig } from 'vitest/config';

// One config; test/run-all.sh runs the folders as separate passes:
//  - test/unit: pure logic and loopback servers, files in parallel
//  - system suites (netns, interop, snmp, obs, prom, lvs-local): one file at a time, as root
//  - test/ipvs: inside a User-Mode-Linux kernel with IPVS (test/ipvs/run-in-uml.sh)
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
