// How a proposal can fail, the same for the in-process cluster and for RemoteJobQueue over the network.

/** The outcome of a command is unknown: the member stopped after it was handed over. */
export class OutcomeUnknownError extends Error {
  readonly code = 'JOBQ_OUTCOME_UNKNOWN';
  constructor(message: string) {
    super(message);
    this.name = 'OutcomeUnknownError';
  }
}

/** No member accepted the command in time; it was certainly not applied. */
export class UnavailableError extends Error {
  readonly code = 'JOBQ_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'UnavailableError';
  }
}
