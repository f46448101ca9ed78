// Types for targets.mjs, so the tests that hold its verdicts are typed.

export interface Spread {
  median: number;
  min: number;
  max: number;
  rounds: number;
}

export interface RatioSpread {
  p50: Spread;
  p99: Spread;
  roundTripsPerSecond: Spread;
}

export interface RateEntry {
  target: number;
  accuracy: number;
  sendErrorP99: number;
  realtime?: { sendErrorP99: number } | null;
}

/** The parts of bench/run.mjs's JSON report that the targets are judged from. */
export interface BenchReport {
  /**
   * Per path: ratios by "mine / other"; tools, where given, names every tool chosen for the run (skipped ones with
   * the reason); kernelP50: rtt.kernel p50 per rtt-probe row (UDP and raw), for the raw transport's agreement target.
   */
  paths?: Record<
    string,
    { ratios: Record<string, RatioSpread>; tools?: Record<string, { skipped?: string; [figure: string]: unknown }>; kernelP50?: Record<string, Spread> }
  >;
  rate?: RateEntry[];
  eventLoopDelayP99Ns?: number;
  soak?: { probes: number; growthBytes: number };
  startup?: { addonLoadMs?: number };
}

export interface Verdict {
  target: string;
  subject: string;
  value: number | null;
  shown: string;
  /** null where the run did not measure it; `why` says so */
  met: boolean | null;
  why?: string;
}

export declare const TARGETS: {
  floorP50: number;
  floorP99: number;
  floorRoundTrips: number;
  tcpFloorP50: number;
  rateAccuracy: number;
  rateUpTo: number;
  sendErrorP99Ns: number;
  eventLoopDelayP99Ns: number;
  soakProbes: number;
  soakGrowthBytes: number;
  addonLoadMs: number;
  rawKernelAgreementNs: number;
};

export declare function judgeTargets(report: BenchReport): Verdict[];
export declare function targetsMarkdown(verdicts: Verdict[]): string[];
