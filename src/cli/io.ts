/** Where a command writes: the process's streams, or a test's. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The exit status a command's action sets; main() returns it. */
export interface Outcome {
  exit: number;
}
