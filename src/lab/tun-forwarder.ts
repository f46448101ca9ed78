/**
 * flannel's UDP backend in miniature, run by the lab in each host namespace
 * of the tun-udp topology: every IP packet the kernel routes into the TUN
 * device is read here and sent inside one UDP datagram to the other host's
 * forwarder, which writes it back into its own TUN device. Two user-space
 * crossings per direction per host: the slow path the study measured.
 *
 *   node tun-forwarder.js DEVICE LOCAL_ADDRESS:PORT REMOTE_ADDRESS:PORT
 *
 * It creates DEVICE (gone when this process ends), binds LOCAL, prints
 * "ready", and runs until its stdin closes: the lab holds the other end of
 * that pipe, so the forwarder ends with the lab however the lab ends.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import { binding } from '../binding';

/** The largest IP packet a TUN device hands over. */
const MAX_PACKET = 65_535;

function endpoint(text: string | undefined): { address: string; port: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text ?? '');
  if (!m) throw new RangeError(`expected an IPv4 ADDRESS:PORT, got "${text ?? ''}"`);
  return { address: m[1]!, port: Number(m[2]) };
}

/**
 * Ends the process at once. process.exit() would wait forever: the TUN read
 * blocks a thread of libuv's pool, which exit() joins. Nothing is buffered
 * here, so the signal's default action loses nothing.
 */
function end(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

function say(error: Error): void {
  process.stderr.write(`tun-forwarder: ${error.message}\n`);
}

/** A failure once packets flow: the process ends at once (see end()). */
function fail(error: Error): never {
  say(error);
  end();
}

function main(argv: string[]): void {
  const [device, localText, remoteText] = argv;
  if (!device) throw new RangeError('usage: tun-forwarder DEVICE LOCAL_ADDRESS:PORT REMOTE_ADDRESS:PORT');
  const local = endpoint(localText);
  const remote = endpoint(remoteText);
  const tun = binding().openTun(device);
  const socket = dgram.createSocket('udp4');
  socket.on('error', fail);
  // A write the kernel refuses (a packet it cannot parse) drops that packet, as a tunnel would.
  socket.on('message', (packet) => {
    try {
      fs.writeSync(tun, packet);
    } catch {
      // dropped: the sender counts it as lost
    }
  });
  socket.bind(local.port, local.address, () => {
    const buffer = Buffer.allocUnsafe(MAX_PACKET);
    // One packet in flight: the next read waits until the buffer has been sent.
    const pump = (): void =>
      fs.read(tun, buffer, 0, buffer.length, null, (error, length) => {
        if (error) fail(error);
        socket.send(buffer, 0, length, remote.port, remote.address, pump);
      });
    pump();
    process.stdout.write('ready\n');
  });
  process.stdin.on('end', end).on('error', end).resume();
}

try {
  main(process.argv.slice(2));
} catch (error) {
  // Before the first read: nothing holds the process, so it exits with this status.
  say(error as Error);
  process.exitCode = 1;
}
