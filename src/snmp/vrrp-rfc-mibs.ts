/**
 * The standard VRRP MIBs, served from the AgentSnapshot:
 *  - VRRP-MIB, RFC 2787 (mib-2.68): rows for VRRPv2 IPv4 instances with VIPs;
 *  - VRRPV3-MIB, RFC 6527 (mib-2.207): rows for every instance with VIPs (keepalived built
 *    with SNMP_V3_FOR_V2, as Debian's 2.2.7 is, reports v2 instances here too).
 *
 * Rows are indexed by the ifIndex of the instance's interface (INDEX { ifIndex, VrId[,
 * InetAddrType] }), so the engine must supply InstanceSnapshot.ifindex. Both MIBs are
 * read-only here, as in keepalived (no RowStatus creation).
 */
import type { Value } from './agentx-pdu';
import { counter, counter64, gauge, int, ipaddr, octets, scalar, table, ticks, truth, type Column, type MibContext, type MibModule, type Row } from './mib';
import { compareOid, concatOid, oid } from './oid';
import { masterReasonOf, octetsOf, primaryAddress, rfcState, suitableRfc2787, suitableRfc6527, virtualMac } from './convert';
import type { InstanceSnapshot } from '../state/snapshot';

export const VRRP_MIB = oid('1.3.6.1.2.1.68');
export const VRRPV3_MIB = oid('1.3.6.1.2.1.207');

/**
 * RFC 2787 §vrrpOperVirtualRouterUpTime / RFC 6527 vrrpv3OperationsUpTime: "the value of
 * sysUpTime when this virtual router transitioned out of initialize". sysUpTime is the
 * master agent's; its epoch comes from the res.sysUpTime of the master's AgentX Responses
 * (RFC 2741 §6.2.16). 0 while initialize/fault, or if the transition predates the master.
 */
export function upTimeTicks(i: InstanceSnapshot, ctx: MibContext): number {
  if (i.state !== 'BACKUP' && i.state !== 'MASTER') return 0;
  if (ctx.masterBootWall === undefined) return 0;
  const since = (i.up_since ?? i.last_transition) * 1000;
  return Math.max(0, Math.round((since - ctx.masterBootWall) / 10));
}

/** Master's address: our own primary address while we are master (keepalived does the same
 * for RFC 6527, and vrrpTrapNewMaster carries it), else the source of the last advert. */
function masterAddress(i: InstanceSnapshot): number[] | undefined {
  return i.state === 'MASTER' ? octetsOf(primaryAddress(i)) : octetsOf(i.master_address);
}

function uniqueBy<R>(rows: Row<R>[]): Row<R>[] {
  const sorted = rows.slice().sort((a, b) => compareOid(a.index, b.index));
  return sorted.filter((r, k) => k === 0 || compareOid(sorted[k - 1].index, r.index) !== 0);
}

const col = <R>(sub: number, name: string, get: (r: R, ctx: MibContext) => Value | undefined): Column<R> => ({ sub, name, get });

// ---------------------------------------------------------------------------------------
// RFC 2787

export function vrrpMibModule(traps: boolean): MibModule {
  const ops = concatOid(VRRP_MIB, [1]);
  const stats = concatOid(VRRP_MIB, [2]);
  const rows = (ctx: MibContext): Row<InstanceSnapshot>[] =>
    uniqueBy(ctx.snap.instances.filter(suitableRfc2787).map((i) => ({ index: [i.ifindex, i.vrid], row: i })));
  const operColumns: Column<InstanceSnapshot>[] = [
    col(2, 'vrrpOperVirtualMacAddr', (i) => octets(virtualMac(i))),
    col(3, 'vrrpOperState', (i) => int(rfcState(i.state))),
    // adminState up(1): keepalived has no administrative down
    col(4, 'vrrpOperAdminState', () => int(1)),
    col(5, 'vrrpOperPriority', (i) => int(i.base_priority)),
    col(6, 'vrrpOperIpAddrCount', (i) => int(i.vips.length)),
    col(7, 'vrrpOperMasterIpAddr', (i) => ipaddr(masterAddress(i) ?? [0, 0, 0, 0])),
    col(8, 'vrrpOperPrimaryIpAddr', (i) => ipaddr(octetsOf(primaryAddress(i)) ?? [0, 0, 0, 0])),
    // noAuthentication(1) simpleTextPassword(2) ipAuthenticationHeader(3) = keepalived auth_type + 1
    col(9, 'vrrpOperAuthType', (i) => int(i.auth_type + 1)),
    // vrrpOperAuthKey (10) "SHOULD always return a zero-length string": keepalived does not
    // return it at all, and neither do we — no secret ever leaves through SNMP.
    col(11, 'vrrpOperAdvertisementInterval', (i) => int(Math.trunc(i.adver_int))),
    col(12, 'vrrpOperPreemptMode', (i) => truth(!i.nopreempt)),
    col(13, 'vrrpOperVirtualRouterUpTime', (i, ctx) => ticks(upTimeTicks(i, ctx))),
    col(14, 'vrrpOperProtocol', () => int(1)), // ip(1)
    col(15, 'vrrpOperRowStatus', () => int(1)), // active(1)
  ];
  const statColumns: Column<InstanceSnapshot>[] = [
    col(1, 'vrrpStatsBecomeMaster', (i) => counter(i.stats.become_master)),
    col(2, 'vrrpStatsAdvertiseRcvd', (i) => counter(i.stats.advert_rcvd)),
    col(3, 'vrrpStatsAdvertiseIntervalErrors', (i) => counter(i.stats.advert_interval_err)),
    col(4, 'vrrpStatsAuthFailures', (i) => counter(i.stats.auth_failure)),
    col(5, 'vrrpStatsIpTtlErrors', (i) => counter(i.stats.ip_ttl_err)),
    col(6, 'vrrpStatsPriorityZeroPktsRcvd', (i) => counter(i.stats.pri_zero_rcvd)),
    col(7, 'vrrpStatsPriorityZeroPktsSent', (i) => counter(i.stats.pri_zero_sent)),
    col(8, 'vrrpStatsInvalidTypePktsRcvd', (i) => counter(i.stats.invalid_type_rcvd)),
    col(9, 'vrrpStatsAddressListErrors', (i) => counter(i.stats.addr_list_err)),
    col(10, 'vrrpStatsInvalidAuthType', (i) => counter(i.stats.invalid_authtype)),
    col(11, 'vrrpStatsAuthTypeMismatch', (i) => counter(i.stats.authtype_mismatch)),
    col(12, 'vrrpStatsPacketLengthErrors', (i) => counter(i.stats.packet_len_err)),
  ];
  type Asso = { i: InstanceSnapshot };
  const rs = (ctx: MibContext) => ctx.snap.vrrpRouterStats;
  return {
    name: 'VRRP-MIB',
    root: VRRP_MIB,
    descr: 'The MIB module for VRRP',
    objects: [
      scalar('vrrpNodeVersion', concatOid(ops, [1]), () => int(2)),
      scalar('vrrpNotificationCntl', concatOid(ops, [2]), () => int(traps ? 1 : 2)),
      table('vrrpOperTable', concatOid(ops, [3, 1]), operColumns, rows),
      table<Asso>('vrrpAssoIpAddrTable', concatOid(ops, [4, 1]), [col(2, 'vrrpAssoIpAddrRowStatus', () => int(1))], (ctx) => {
        const out: Row<Asso>[] = [];
        for (const r of rows(ctx)) {
          for (const v of r.row.vips) {
            const o = octetsOf(v.address);
            if (o?.length === 4) out.push({ index: [...r.index, ...o], row: { i: r.row } });
          }
        }
        return uniqueBy(out);
      }),
      scalar('vrrpRouterChecksumErrors', concatOid(stats, [1]), (ctx) => counter(rs(ctx)?.checksum_err ?? 0)),
      scalar('vrrpRouterVersionErrors', concatOid(stats, [2]), (ctx) => counter(rs(ctx)?.version_err ?? 0)),
      scalar('vrrpRouterVrIdErrors', concatOid(stats, [3]), (ctx) => counter(rs(ctx)?.vrid_err ?? 0)),
      // AUGMENTS { vrrpOperEntry }: same rows as the oper table
      table('vrrpRouterStatsTable', concatOid(stats, [4, 1]), statColumns, rows),
    ],
  };
}

// ---------------------------------------------------------------------------------------
// RFC 6527

export const inetTypeOf = (i: InstanceSnapshot): 1 | 2 => (i.family === 'ipv6' ? 2 : 1);

export function vrrpv3MibModule(): MibModule {
  const opsE = concatOid(VRRPV3_MIB, [1, 1, 1, 1]);
  const assoE = concatOid(VRRPV3_MIB, [1, 1, 2, 1]);
  const stats = concatOid(VRRPV3_MIB, [1, 2]);
  const rows = (ctx: MibContext): Row<InstanceSnapshot>[] =>
    uniqueBy(ctx.snap.instances.filter(suitableRfc6527).map((i) => ({ index: [i.ifindex, i.vrid, inetTypeOf(i)], row: i })));
  const zeros = (i: InstanceSnapshot) => new Array<number>(i.family === 'ipv6' ? 16 : 4).fill(0);
  const operColumns: Column<InstanceSnapshot>[] = [
    col(3, 'vrrpv3OperationsMasterIpAddr', (i) => octets(masterAddress(i) ?? zeros(i))),
    col(4, 'vrrpv3OperationsPrimaryIpAddr', (i) => octets(octetsOf(primaryAddress(i)) ?? zeros(i))),
    col(5, 'vrrpv3OperationsVirtualMacAddr', (i) => octets(virtualMac(i))),
    col(6, 'vrrpv3OperationsStatus', (i) => int(rfcState(i.state))),
    col(7, 'vrrpv3OperationsPriority', (i) => gauge(i.base_priority)),
    col(8, 'vrrpv3OperationsAddrCount', (i) => int(i.vips.length)),
    // centiseconds (RFC 5798 §5.2.7), for v2 instances too
    col(9, 'vrrpv3OperationsAdvInterval', (i) => int(Math.round(i.adver_int * 100))),
    col(10, 'vrrpv3OperationsPreemptMode', (i) => truth(!i.nopreempt)),
    col(11, 'vrrpv3OperationsAcceptMode', (i) => truth(i.accept)),
    col(12, 'vrrpv3OperationsUpTime', (i, ctx) => ticks(upTimeTicks(i, ctx))),
    col(13, 'vrrpv3OperationsRowStatus', () => int(1)),
  ];
  const statColumns: Column<InstanceSnapshot>[] = [
    col(1, 'vrrpv3StatisticsMasterTransitions', (i) => counter(i.stats.become_master)),
    col(2, 'vrrpv3StatisticsNewMasterReason', (i) => int(masterReasonOf(i))),
    col(3, 'vrrpv3StatisticsRcvdAdvertisements', (i) => counter64(i.stats.advert_rcvd)),
    col(4, 'vrrpv3StatisticsAdvIntervalErrors', (i) => counter64(i.stats.advert_interval_err)),
    col(5, 'vrrpv3StatisticsIpTtlErrors', (i) => counter64(i.stats.ip_ttl_err)),
    col(6, 'vrrpv3StatisticsProtoErrReason', (i) => int(i.proto_err_reason ?? 0)),
    col(7, 'vrrpv3StatisticsRcvdPriZeroPackets', (i) => counter64(i.stats.pri_zero_rcvd)),
    col(8, 'vrrpv3StatisticsSentPriZeroPackets', (i) => counter64(i.stats.pri_zero_sent)),
    col(9, 'vrrpv3StatisticsRcvdInvalidTypePackets', (i) => counter64(i.stats.invalid_type_rcvd)),
    col(10, 'vrrpv3StatisticsAddressListErrors', (i) => counter64(i.stats.addr_list_err)),
    col(11, 'vrrpv3StatisticsPacketLengthErrors', (i) => counter64(i.stats.packet_len_err)),
    // keepwatch keeps counters for the life of the process: no discontinuities to report
    col(12, 'vrrpv3StatisticsRowDiscontinuityTime', () => ticks(0)),
    // milliseconds between counter refreshes: counters are live, so the advert interval
    // bounds their staleness (what keepalived reports)
    col(13, 'vrrpv3StatisticsRefreshRate', (i) => gauge(Math.round(i.adver_int * 1000))),
  ];
  type Asso = { i: InstanceSnapshot };
  const rs = (ctx: MibContext) => ctx.snap.vrrpRouterStats;
  return {
    name: 'VRRPV3-MIB',
    root: VRRPV3_MIB,
    descr: 'The MIB module for VRRPV3',
    objects: [
      table('vrrpv3OperationsTable', opsE, operColumns, rows),
      // The address index is the raw 4/16 octets without the RFC 2578 §7.7 length
      // sub-identifier an InetAddress index should carry: keepalived 2.2.7 encodes it so
      // (vrrp_rfcv3_header_ar_table), and pollers configured against keepalived use these OIDs.
      table<Asso>('vrrpv3AssociatedIpAddrTable', assoE, [col(2, 'vrrpv3AssociatedIpAddrRowStatus', () => int(1))], (ctx) => {
        const out: Row<Asso>[] = [];
        for (const r of rows(ctx)) {
          const len = r.index[2] === 2 ? 16 : 4;
          for (const v of r.row.vips) {
            const o = octetsOf(v.address);
            if (o?.length === len) out.push({ index: [...r.index, ...o], row: { i: r.row } });
          }
        }
        return uniqueBy(out);
      }),
      scalar('vrrpv3RouterChecksumErrors', concatOid(stats, [1]), (ctx) => counter64(rs(ctx)?.checksum_err ?? 0)),
      scalar('vrrpv3RouterVersionErrors', concatOid(stats, [2]), (ctx) => counter64(rs(ctx)?.version_err ?? 0)),
      scalar('vrrpv3RouterVrIdErrors', concatOid(stats, [3]), (ctx) => counter64(rs(ctx)?.vrid_err ?? 0)),
      scalar('vrrpv3GlobalStatisticsDiscontinuityTime', concatOid(stats, [4]), () => ticks(0)),
      table('vrrpv3StatisticsTable', concatOid(stats, [5, 1]), statColumns, rows),
    ],
  };
}

