/**
 * Test-side access to the namespace lab. The lab itself lives in src/lab/netns.ts
 * because `npm run demo` builds the same topology; tests add their own helpers here.
 * To run keepwatch code INSIDE a namespace (sockets, netlink, procfs) see ./ns-node.ts:
 * runNode(ns, script), startAgent(ns) (RPC into dist/ modules), startCapture(ns, tcpdump args).
 */
export * from '../../src/lab/netns';

import { ip as ipCmd, type Lab } from '../../src/lab/netns';

/**
 * Plug the namespace this test process runs in into a lab's switch: veth `ifname` here,
 * its peer `port` enslaved to the lab's br0. Only for test/ipvs, whose process is the
 * IPVS director in the root namespace of a throw-away UML guest (never on a real host:
 * the rules forbid touching the host's root namespace). Removed with lab.destroy()
 * (deleting the switch namespace deletes the pair).
 */
export function attachSelf(lab: Lab, ifname: string, port: string, v4: string[]): void {
  if (process.env.KEEPWATCH_UML_GUEST !== '1') throw new Error('attachSelf: only inside the UML guest (test/ipvs/run-in-uml.sh)');
  ipCmd('link', 'add', ifname, 'type', 'veth', 'peer', 'name', port, 'netns', lab.sw.name);
  lab.sw.ip('link', 'set', port, 'master', 'br0');
  lab.sw.ip('link', 'set', port, 'up');
  for (const a of v4) ipCmd('addr', 'add', a, 'dev', ifname);
  ipCmd('link', 'set', ifname, 'up');
}
