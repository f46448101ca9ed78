/**
 * Every error rtt-probe throws is an RttProbeError with a `code`, so one
 * `instanceof` catches them all: validation failures carry Node's ERR_*
 * codes, system failures the errno name (EADDRINUSE, EPERM, ...).
 */

/** A system or runtime failure; `code` is the errno name when the OS refused something. */
export class RttProbeError extends Error {
  readonly code: string;
  readonly errno?: number;

  constructor(message: string, code: string, errno?: number) {
    super(message);
    this.name = 'RttProbeError';
    this.code = code;
    if (errno !== undefined) this.errno = errno;
  }
}

/** An option of the wrong type. */
export class OptionTypeError extends RttProbeError {
  declare readonly code: 'ERR_INVALID_ARG_TYPE';

  constructor(message: string) {
    super(message, 'ERR_INVALID_ARG_TYPE');
    this.name = 'OptionTypeError';
  }
}

/** An option outside its allowed range (ERR_OUT_OF_RANGE) or set of values (ERR_INVALID_ARG_VALUE, from the addon's parsers). */
export class OptionRangeError extends RttProbeError {
  declare readonly code: 'ERR_OUT_OF_RANGE' | 'ERR_INVALID_ARG_VALUE';

  constructor(message: string, code: OptionRangeError['code'] = 'ERR_OUT_OF_RANGE') {
    super(message, code);
    this.name = 'OptionRangeError';
  }
}

/** Input that is not a result rtt-probe wrote (ProbeResult.fromJSON); the message names what is wrong. */
export class ResultFormatError extends RttProbeError {
  declare readonly code: 'ERR_RTT_PROBE_RESULT_FORMAT';

  constructor(message: string) {
    super(message, 'ERR_RTT_PROBE_RESULT_FORMAT');
    this.name = 'ResultFormatError';
  }
}

/** A file the caller named for output cannot be written there; `code` is the errno name. Checked before a run starts. */
export class OutputPathError extends RttProbeError {
  constructor(message: string, code: string) {
    super(message, code);
    this.name = 'OutputPathError';
  }
}

/** The native addon could not be loaded on this platform. */
export class BindingLoadError extends RttProbeError {
  constructor(message: string) {
    super(message, 'ERR_RTT_PROBE_BINDING');
    this.name = 'BindingLoadError';
  }
}

/** Errors thrown by the addon arrive as plain Errors with `code`; give them our class. */
export function fromNative(error: unknown): Error {
  if (!(error instanceof Error)) return new RttProbeError(String(error), 'ERR_RTT_PROBE');
  const { code, errno } = error as Error & { code?: unknown; errno?: unknown };
  if (error instanceof TypeError) return new OptionTypeError(error.message);
  if (error instanceof RangeError) return new OptionRangeError(error.message, code === 'ERR_INVALID_ARG_VALUE' ? code : 'ERR_OUT_OF_RANGE');
  return new RttProbeError(
    error.message,
    typeof code === 'string' ? code : 'ERR_RTT_PROBE',
    typeof errno === 'number' ? errno : undefined,
  );
}
