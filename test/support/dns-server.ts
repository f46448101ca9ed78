/**
 * A DNS server on 127.0.0.1 that answers A and AAAA questions from a record
 * set the test changes at will: what a Kubernetes headless Service looks
 * like to a resolver (one name, one record per ready pod). Unknown names are
 * NXDOMAIN; a known name without records of the asked type is an empty answer.
 */
import { createSocket } from 'node:dgram';
import net from 'node:net';

const A = 1;
const AAAA = 28;
const NXDOMAIN = 3;

export interface DnsServer {
  /** "127.0.0.1:PORT", for Resolver#setServers. */
  server: string;
  /** Name -> its addresses (IPv4 and IPv6 mixed); change it between questions. */
  records: Map<string, string[]>;
  /** How many questions came in. */
  questions: number;
  close(): Promise<void>;
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = address.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

export async function startDnsServer(): Promise<DnsServer> {
  const socket = createSocket('udp4');
  const state: DnsServer = {
    server: '',
    records: new Map(),
    questions: 0,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (query, from) => {
    state.questions++;
    const labels: string[] = [];
    let at = 12;
    while (query[at]! > 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString('ascii'));
      at += query[at]! + 1;
    }
    const type = query.readUInt16BE(at + 1);
    const question = query.subarray(12, at + 5);
    const addresses = state.records.get(labels.join('.').toLowerCase());
    const family = type === A ? 4 : type === AAAA ? 6 : 0;
    const answers = (addresses ?? [])
      .filter((a) => net.isIP(a) === family)
      .map((a) => {
        const data = family === 4 ? Buffer.from(a.split('.').map(Number)) : ipv6Bytes(a);
        const rr = Buffer.alloc(12);
        rr.writeUInt16BE(0xc00c, 0); // the question's name
        rr.writeUInt16BE(type, 2);
        rr.writeUInt16BE(1, 4); // IN
        rr.writeUInt32BE(0, 6); // TTL 0: c-ares caches answers for their TTL, and the tests change them
        rr.writeUInt16BE(data.length, 10);
        return Buffer.concat([rr, data]);
      });
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (addresses ? 0 : NXDOMAIN), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, question, ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  state.server = `127.0.0.1:${socket.address().port}`;
  return state;
}
