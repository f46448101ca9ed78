/** `rtt-probe report FILES...`: one self-contained HTML page of plots from saved results. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { htmlReport } from '../../report/html';
import { loadReportSources } from '../../report/inputs';
import { checkWritable } from '../../report/output';
import { labelledFile } from '../../lab/budget-input';
import { EXIT } from '../exit-codes';
import type { Io, Outcome } from '../io';

interface ReportFlags {
  output?: string;
}

/** Beside the first input, named like it with .html. */
function besideFirst(arg: string): string {
  const { file } = labelledFile(arg);
  return path.join(path.dirname(file), `${path.basename(file, path.extname(file))}.html`);
}

function runReport(io: Io, files: string[], flags: ReportFlags): number {
  const sources = loadReportSources(files);
  const out = flags.output ?? besideFirst(files[0]!);
  checkWritable('the HTML report', out);
  writeFileSync(out, htmlReport(sources));
  io.stdout.write(`report: ${out}\n`);
  return EXIT.ok;
}

export function addReportCommand(program: Command, io: Io, outcome: Outcome): void {
  program
    .command('report')
    .description(
      'one self-contained HTML page from saved results: percentile spectrum, CDF, histograms, latency over time, ' +
        'lab topologies and budget curves, several results overlaid; opens without a network',
    )
    .argument('<files...>', 'results of `rtt-probe probe --json`, `lab --json` or `budget --json`, each as FILE or LABEL=FILE')
    .option('-o, --output <file>', 'where to write the page (default: beside the first input, with .html)')
    .action((files: string[], flags: ReportFlags) => {
      outcome.exit = runReport(io, files, flags);
    });
}
