/** Parsers of command-line values shared by the commands: each rejects bad input with a message that says what to give. */
import { InvalidArgumentError } from 'commander';
import { parseCpuList } from '../caps';
import { MAX_RATE_LIMIT, MIN_RATE_LIMIT, PROTOCOLS, parseDuration, type Protocol } from '../options';

export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`give a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** "udp", "tcp" or "udp,tcp": the protocols a reflector serves. */
export function protocolList(value: string): Protocol[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => !(PROTOCOLS as readonly string[]).includes(p))) {
    throw new InvalidArgumentError(`give ${PROTOCOLS.join(', ')} or ${PROTOCOLS.join(',')}.`);
  }
  return parts as Protocol[];
}

/** A comma-separated list of whole numbers in a range, e.g. "1,10,250". */
export function integers(min: number, max: number) {
  const one = integer(min, max);
  return (value: string): number[] => {
    const parts = value.split(',').map((p) => p.trim());
    if (parts.some((p) => p === '')) throw new InvalidArgumentError(`give whole numbers from ${min} to ${max} separated by commas, e.g. 1,10,250.`);
    return parts.map((p) => {
      try {
        return one(p);
      } catch {
        throw new InvalidArgumentError(`"${p}" is not a whole number from ${min} to ${max}; give a comma-separated list.`);
      }
    });
  };
}

/** A cpulist as the kernel writes them: "1", "0-3", "1,3,8-11". */
export function cpuList(value: string): number[] {
  if (!/^\s*\d+(-\d+)?(\s*,\s*\d+(-\d+)?)*\s*$/.test(value)) {
    throw new InvalidArgumentError('give CPU numbers as a cpulist, e.g. 3, 2-5 or 1,3,8-11.');
  }
  return parseCpuList(value);
}

export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('give a positive number.');
  return n;
}

/** A reflector's reply-rate limit; the library's bounds, said in the flag's terms. */
export function replyRate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < MIN_RATE_LIMIT || n > MAX_RATE_LIMIT) {
    throw new InvalidArgumentError(`give replies per second from ${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT} (leave the option out for no limit).`);
  }
  return n;
}

export function duration(value: string): string {
  try {
    parseDuration(value, 'duration');
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message.replace(/^duration /, '')}.`);
  }
  return value;
}

/** A comma-separated list of names from `allowed`, each once, e.g. "veth,bridge". */
export function names<T extends string>(allowed: readonly T[], what: string) {
  return (value: string): T[] => {
    const list = value.split(',').map((v) => v.trim());
    for (const v of list) {
      if (!allowed.includes(v as T)) throw new InvalidArgumentError(`unknown ${what} "${v}": choose from ${allowed.join(', ')}.`);
    }
    return [...new Set(list)] as T[];
  };
}
