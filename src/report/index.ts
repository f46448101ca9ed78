/**
 * `rtt-probe/report`: what results become in the HdrHistogram ecosystem's
 * formats, for library users (the CLI's --hlog and --hgrm use the same).
 */
export { HistogramLogWriter, writeHistogramLog, HLOG_MAX_VALUE_UNIT_RATIO } from './hlog';
export {
  percentileDistribution,
  hgrmPaths,
  writePercentileDistributions,
  HGRM_VALUE_UNIT_SCALING_RATIO,
  HGRM_PERCENTILE_TICKS_PER_HALF_DISTANCE,
} from './hgrm';
