/**
 * DNS_CHECK (keepalived check/check_dns.c): one UDP query (random id, RD set, QCLASS IN)
 * for `name` / `type` to the real server; success = a response with our id, QR set and
 * RCODE 0 within connect_timeout. Datagrams that are too short, carry another id or are
 * queries are ignored, as keepalived does.
 *
 *   header: ID(16) | QR OPCODE AA TC RD RA Z RCODE (16) | QDCOUNT | ANCOUNT | NSCOUNT | ARCOUNT
 *   question: QNAME (length-prefixed labels, 0) | QTYPE(16) | QCLASS(16)    (RFC 1035 §4.1)
 */
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { settleOnce } from './probe-settle';
import type { DnsCheckSpec, DnsType, ProbeOutcome } from './types';

export const DNS_TYPES: Record<DnsType, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };

export function buildQuery(id: number, name: string, type: DnsType): Buffer {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2); // RD
  h.writeUInt16BE(1, 4);
  parts.push(h);
  for (const l of labels) {
    const b = Buffer.from(l, 'latin1');
    parts.push(Buffer.from([Math.min(b.length, 63)]), b.subarray(0, 63));
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt8(0, 0);
  tail.writeUInt16BE(DNS_TYPES[type], 1);
  tail.writeUInt16BE(1, 3); // IN
  parts.push(tail);
  return Buffer.concat(parts);
}

export function probeDns(spec: DnsCheckSpec, signal?: AbortSignal): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sock = createSocket(isIP(spec.connectIp) === 6 ? 'udp6' : 'udp4');
    const id = randomInt(0, 0x10000);
    const finish = settleOnce(resolve, spec.connectTimeoutMs, 'read timeout from socket', signal, () => {
      try {
        sock.close();
      } catch {
        /* closed */
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, detail: e.code ?? e.message }));
    sock.on('message', (m: Buffer) => {
      if (m.length < 12 || m.readUInt16BE(0) !== id) return;
      const flags = m.readUInt16BE(2);
      if (!(flags & 0x8000)) return; // a query, not a response
      const rcode = flags & 0x0f;
      finish(rcode === 0 ? { ok: true } : { ok: false, detail: `read error occurred. (rcode = ${rcode})` });
    });
    const send = () =>
      sock.connect(spec.connectPort, spec.connectIp, () => {
        sock.send(buildQuery(id, spec.name, spec.type), (e) => {
          if (e) finish({ ok: false, detail: (e as NodeJS.ErrnoException).code ?? e.message });
        });
      });
    if (spec.bindto || spec.bindPort) sock.bind({ address: spec.bindto, port: spec.bindPort ?? 0 }, send);
    else send();
  });
}
