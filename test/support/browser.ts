/// <reference lib="dom" />
/**
 * Opens an HTML report in a real headless browser (Debian's chromium driven
 * by playwright-core), as a user would from a file, and reads back what the
 * page drew: every console or page error, and per plot its series, its
 * columns' lengths and how many pixels of each series' colour its canvas holds.
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM) ? null : `needs Debian's chromium at ${CHROMIUM} (.ci/run installs it)`;
}

export interface DrawnPlot {
  title: string;
  series: string[];
  lengths: number[];
  /** Pixels of each series' colour on the plot's canvas. */
  pixels: number[];
  /** Canvas row of each series' values (null where it has none). */
  rows: Array<Array<number | null>>;
}

export interface OpenedReport {
  errors: string[];
  plots: DrawnPlot[];
  /** Every legend entry's text. */
  legends: string[];
  text: string;
}

/**
 * The series of a plot whose colour is nowhere on its canvas, except those
 * lying under a series drawn later: same values to within a canvas pixel
 * (two lab rounds with one p50 draw the highest point over the lowest).
 */
export function undrawnSeries(plot: DrawnPlot): string[] {
  const covers = (later: Array<number | null>, under: Array<number | null>) =>
    under.every((row, k) => row === null || (later[k] != null && Math.abs(later[k]! - row) <= 1));
  return plot.series.filter((_, i) => plot.pixels[i] === 0 && !plot.rows.slice(i + 1).some((later) => covers(later, plot.rows[i]!)));
}

/** Loads `file`, checks what it drew, saves a full-page screenshot to `screenshot`; the browser is closed whatever happens. */
export async function openReport(file: string, screenshot: string, timeoutMs = 30_000): Promise<OpenedReport> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: timeoutMs });
  try {
    const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
    page.setDefaultTimeout(timeoutMs);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    // Nothing may come from the network: the page is self-contained.
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) errors.push(`network request: ${r.url()}`);
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const found = await page.evaluate(() => {
      type Drawn = { title: string; series: string[]; colours: string[]; lengths: number[]; rows: () => Array<Array<number | null>>; canvas: HTMLCanvasElement };
      const drawn = ((window as unknown as { rttReport?: { plots: Drawn[] } }).rttReport?.plots ?? []) as Drawn[];
      const near = (d: Uint8ClampedArray, i: number, rgb: number[]) =>
        d[i + 3]! > 200 && Math.abs(d[i]! - rgb[0]!) + Math.abs(d[i + 1]! - rgb[1]!) + Math.abs(d[i + 2]! - rgb[2]!) < 40;
      return {
        plots: drawn.map((p) => {
          const data = p.canvas.getContext('2d')!.getImageData(0, 0, p.canvas.width, p.canvas.height).data;
          const pixels = p.colours.map((hex) => {
            const rgb = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
            let n = 0;
            for (let i = 0; i < data.length; i += 4) if (near(data, i, rgb)) n++;
            return n;
          });
          return { title: p.title, series: p.series, lengths: p.lengths, pixels, rows: p.rows() };
        }),
        legends: Array.from(document.querySelectorAll('.u-legend .u-label')).map((e) => e.textContent ?? ''),
        text: document.body.innerText,
      };
    });
    await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, ...found };
  } finally {
    await browser.close();
  }
}
