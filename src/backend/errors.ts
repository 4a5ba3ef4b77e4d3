/** The error every backend problem throws (the CLI turns it into exit code 2 and a one-line message). */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendError';
  }
}
