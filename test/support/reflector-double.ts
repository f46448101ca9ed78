/**
 * A STAMP reflector written in JavaScript with the engine's own codec, whose
 * misbehaviour each test chooses: answer twice, late, out of order, short,
 * corrupted or signed with the wrong key. Authenticated replies are signed
 * with node:crypto, an HMAC independent of the engine's.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { wire } from '../../src/index';

export type Behaviour = (request: Buffer, reply: (packet: Buffer) => void) => void;

const HMAC_OFFSET = 96;

const nowWire = () => wire.encodeTimestamp(BigInt(Date.now()) * 1_000_000n, 'ntp');

/** HMAC-SHA-256 of the 96 bytes before the HMAC field, truncated to 16 (RFC 8762 4.4), written in place. */
export function sign(packet: Buffer, key: Buffer): Buffer {
  crypto.createHmac('sha256', key).update(packet.subarray(0, HMAC_OFFSET)).digest().copy(packet, HMAC_OFFSET, 0, 16);
  return packet;
}

export function verifies(packet: Buffer, key: Buffer): boolean {
  const expected = crypto.createHmac('sha256', key).update(packet.subarray(0, HMAC_OFFSET)).digest().subarray(0, 16);
  return packet.length >= 112 && crypto.timingSafeEqual(expected, packet.subarray(HMAC_OFFSET, HMAC_OFFSET + 16));
}

/**
 * The honest reply to a sender packet (T2 = T3 = now, from the JS clock);
 * with a key, in the authenticated layout and signed with it.
 */
export function replyTo(request: Buffer, key?: Buffer): Buffer {
  const layout = key ? 'authenticated' : 'unauthenticated';
  const s = wire.decodeSender(request, layout)!;
  const t = nowWire();
  const reply = wire.encodeReflector(
    {
      seq: s.seq,
      timestamp: t,
      errorEstimate: 0x0001,
      ssid: s.ssid,
      receiveTimestamp: t,
      senderSeq: s.seq,
      senderTimestamp: s.timestamp,
      senderErrorEstimate: s.errorEstimate,
      senderTtl: 64,
    },
    request.length,
    layout,
  );
  return key ? sign(reply, key) : reply;
}

export async function startDouble(behaviour: Behaviour) {
  const socket = dgram.createSocket('udp4');
  let open = true;
  socket.on('message', (msg, from) =>
    behaviour(msg, (packet) => {
      if (open) socket.send(packet, from.port, from.address);
    }),
  );
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    close: () => {
      open = false;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
