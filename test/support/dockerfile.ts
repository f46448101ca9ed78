/**
 * A Dockerfile read as its stages and steps, and the steps run without a
 * container: each stage is a folder standing for its WORKDIR, COPY copies
 * from the build context (or, with --from, from an earlier stage's folder),
 * RUN runs in bash there. What that cannot stand in for (the base image's
 * packages, USER) the caller checks from the parsed steps.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Step {
  instruction: string;
  /** The arguments as written, continuation lines joined. */
  args: string;
  /** COPY's --from, when given. */
  from?: string;
}

export interface Stage {
  image: string;
  name?: string;
  steps: Step[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, instruction = '', rest = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const upper = instruction.toUpperCase();
    if (upper === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      stages.push({ image, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), steps: [] });
      continue;
    }
    if (stages.length === 0) throw new Error(`${upper} before FROM`);
    const from = /^--from=(\S+)\s+(.*)$/.exec(rest);
    stages.at(-1)!.steps.push(from ? { instruction: upper, args: from[2]!, from: from[1]! } : { instruction: upper, args: rest });
  }
  return stages;
}

/** An exec-form argument list (ENTRYPOINT ["node", ...]). */
export function execForm(step: Step): string[] {
  return JSON.parse(step.args) as string[];
}

export interface StageRun {
  /** The folder that stands for the stage's WORKDIR. */
  dir: string;
  env: Record<string, string>;
}

/**
 * Runs a stage's steps in `root` (the stage's filesystem root: WORKDIR /app is root/app).
 * `stages` maps earlier stage names to their roots; `env` is added to every RUN.
 */
export function runStage(stage: Stage, options: { context: string; root: string; stages: Record<string, string>; env: NodeJS.ProcessEnv; timeoutMs: number }): StageRun {
  let dir = options.root;
  const env: Record<string, string> = {};
  for (const step of stage.steps) {
    switch (step.instruction) {
      case 'WORKDIR':
        dir = path.join(options.root, step.args);
        mkdirSync(dir, { recursive: true });
        break;
      case 'COPY': {
        const parts = step.args.split(/\s+/);
        const written = parts.pop()!;
        const dest = path.resolve(dir, written);
        const base = step.from === undefined ? options.context : options.stages[step.from];
        if (base === undefined) throw new Error(`COPY --from=${step.from}: no such stage`);
        for (const source of parts) {
          const from = path.join(base, source);
          if (!existsSync(from)) throw new Error(`COPY ${source}: not in ${step.from ?? 'the build context'}`);
          // Docker's rules: a folder's contents go into dest; a file goes into dest/ (or several files into it), else becomes dest.
          const intoFolder = statSync(from).isFile() && (written.endsWith('/') || parts.length > 1);
          const target = intoFolder ? path.join(dest, path.basename(from)) : dest;
          mkdirSync(path.dirname(target), { recursive: true });
          cpSync(from, target, { recursive: true });
        }
        break;
      }
      case 'ENV': {
        const [, key = '', value = ''] = /^(\S+?)[=\s]+(.*)$/.exec(step.args) ?? [];
        env[key] = value;
        break;
      }
      case 'RUN': {
        const r = spawnSync('bash', ['-euo', 'pipefail', '-c', step.args], {
          cwd: dir,
          env: { ...process.env, ...options.env, ...env },
          encoding: 'utf8',
          timeout: options.timeoutMs,
        });
        if (r.status !== 0) throw new Error(`RUN ${step.args} failed (${r.status ?? r.signal}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-4000)}`);
        break;
      }
      default:
      // USER, EXPOSE, ENTRYPOINT, CMD: what the image declares, checked by the caller.
    }
  }
  return { dir, env };
}
