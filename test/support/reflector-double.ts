/**
 * A STAMP reflector written in JavaScript with the engine's own codec, whose
 * misbehaviour each test chooses: answer twice, late, out of order or short.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { wire } from '../../src/index';

export type Behaviour = (request: Buffer, reply: (packet: Buffer) => void) => void;

const nowWire = () => wire.encodeTimestamp(BigInt(Date.now()) * 1_000_000n, 'ntp');

/** The honest reply to a sender packet (T2 = T3 = now, from the JS clock). */
export function replyTo(request: Buffer): Buffer {
  const s = wire.decodeSender(request)!;
  const t = nowWire();
  return wire.encodeReflector(
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
  );
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
