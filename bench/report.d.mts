// Types for report.mjs, so the tests that hold its output are typed.
import type { BenchReport } from './lib/targets.mjs';

export declare const START: string;
export declare const END: string;
export declare function targetsList(): string[];
export declare function renderReport(report: (BenchReport & Record<string, unknown>) | null, source?: string): string;
export declare function replaceSection(text: string, section: string): string;
