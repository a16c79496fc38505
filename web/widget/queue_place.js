// A waiting relative's place in the queue, kept up to date from the server's `queue` broadcast
// (docs/protocol.md): one packet per round for everyone waiting, from which each page works out its
// own position with the same rule the server plans with (server/domain/queue_rounds.py). A personal
// `status` always wins; one without a round means "wait for a labelled one" (the server sends it).

/** The new position of a page whose place did not change, from its view's vacated and filled positions. */
export function derivePosition(position, change) {
  if (!change) return position;
  const kept = position - change.vacated.filter((vacated) => vacated < position).length;
  let ahead = 0;
  for (const inserted of change.inserted) {
    if (inserted <= kept + ahead) ahead += 1;
  }
  return kept + ahead;
}

export class QueuePlace {
  #status = null;

  /** Remember a personal status; returns it. */
  fromStatus(status) {
    this.#status = status;
    return status;
  }

  /**
   * A `queue` broadcast: null when it changes nothing here, 'gap' when a round was missed (ask for a
   * status), else the status with the derived position and wait.
   */
  apply(round) {
    const status = this.#status;
    if (status?.state !== 'waiting' || !Number.isInteger(status.round) || !Number.isInteger(round?.round)) return null;
    if (round.round <= status.round) return null;
    if (round.round > status.round + 1) return 'gap';
    const position = derivePosition(status.queue_position, round.views?.[status.line]);
    const perPosition = Number(round.wait_per_position);
    const wait = Number.isFinite(perPosition) ? Math.floor(perPosition * position) : status.estimated_wait_seconds;
    this.#status = { ...status, queue_position: position, estimated_wait_seconds: wait, round: round.round };
    return this.#status;
  }
}
