/**
 * Without IPVS in the kernel (this host: CONFIG_IP_VS unset) the client reports a typed
 * "IPVS unavailable" error and the LVS manager keeps its checkers running without
 * programming anything. On a kernel with IPVS the same calls must succeed instead.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IpvsClient, IpvsUnavailableError, tryOpenIpvs } from '../../src/lvs/ipvs';
import { LvsManager } from '../../src/lvs/manager';
import { realServer, virtualServer } from '../../src/lvs/spec';
import { Journal } from '../../src/journal/journal';
import type { JournalEvent } from '../../src/journal/events';

const kernelHasIpvs = existsSync('/proc/net/ip_vs');

describe('IPVS availability', () => {
  it(kernelHasIpvs ? 'opens the IPVS family' : 'reports IPVS unavailable as a typed error', async () => {
    const r = await tryOpenIpvs({ modprobe: false });
    if (kernelHasIpvs) {
      expect(r.ok).toBe(true);
      if (r.ok) r.client.close();
      return;
    }
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(IpvsUnavailableError);
      expect(r.error.code).toBe('IPVS_UNAVAILABLE');
      expect(r.error.message).toMatch(/IPVS unavailable/);
    }
    await expect(IpvsClient.open({ modprobe: false })).rejects.toBeInstanceOf(IpvsUnavailableError);
  });

  it('the LVS manager still runs its checkers and says why nothing is programmed', async () => {
    const journal = new Journal();
    const events: JournalEvent[] = [];
    journal.subscribe((e) => events.push(e));
    const vs = virtualServer({ address: '192.0.2.10', port: 80 }, { realServers: [realServer('198.51.100.11', 80)] });
    const m = await LvsManager.start([vs], kernelHasIpvs ? { journal, client: null } : { journal });
    try {
      if (!kernelHasIpvs) {
        expect(m.ipvsError).toBeInstanceOf(IpvsUnavailableError);
        expect(events.find((e) => e.type === 'ipvs.apply')).toMatchObject({ op: 'open', ok: false });
      }
      expect(m.reconciler).toBeNull();
      expect(m.snapshot()).toMatchObject([{ name: '192.0.2.10:80', quorumMet: true, realServers: [{ address: '198.51.100.11:80', up: true }] }]);
      expect(events.some((e) => e.type === 'virtualserver.quorum' && e.met)).toBe(true);
    } finally {
      await m.stop();
    }
  });
});
