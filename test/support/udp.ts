/** Plain UDP exchanges with a reflector, the way any STAMP peer would talk to it. */
import dgram from 'node:dgram';

export interface Client {
  /** Sends one packet and resolves with the first reply, or null after waitMs. */
  exchange(packet: Buffer, waitMs?: number): Promise<Buffer | null>;
  close(): void;
}

/** A socket that keeps its source port across exchanges (one STAMP session). */
export async function client(port: number, host = '127.0.0.1'): Promise<Client> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  return {
    exchange(packet, waitMs = 300) {
      return new Promise((resolve) => {
        const done = (reply: Buffer | null) => {
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve(reply);
        };
        const onMessage = (msg: Buffer) => done(msg);
        const timer = setTimeout(() => done(null), waitMs);
        socket.on('message', onMessage);
        socket.send(packet, port, host);
      });
    },
    close: () => socket.close(),
  };
}

/** One packet from a fresh socket. */
export async function exchange(port: number, host: string, packet: Buffer, waitMs = 300): Promise<Buffer | null> {
  const c = await client(port, host);
  try {
    return await c.exchange(packet, waitMs);
  } finally {
    c.close();
  }
}

/** Sends every packet back to back from one socket; resolves with all replies that came within waitMs. */
export async function burst(port: number, host: string, packets: Buffer[], waitMs = 300): Promise<Buffer[]> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const replies: Buffer[] = [];
  socket.on('message', (msg) => replies.push(msg));
  await new Promise<void>((resolve) => socket.bind(0, resolve));
  for (const p of packets) socket.send(p, port, host);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  socket.close();
  return replies;
}
