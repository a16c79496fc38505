// The relative's live connection: one socket on /relative, a replay cursor, and an outbox that resends every
// message with the same client_id until the server acknowledges it (docs/protocol.md).

import { io } from '/vendor/socket.io.esm.min.js';
import { QueuePlace } from './queue_place.js';

const ACK_TIMEOUT_MS = 5000;
const RATE_LIMIT_RETRY_MS = 5000;
const RECONNECT_DELAY_MS = 2000;
const TYPING_INTERVAL_MS = 2000;
const GAP_CHECK_DELAY_MS = 1500;
/** Error codes for which resending the same message can never succeed. */
const PERMANENT_SEND_ERRORS = new Set(['text_too_long', 'empty_text', 'conversation_closed', 'invalid_request']);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The refusal code: `data.code` per the protocol; also found in the message when a server sends it there. */
function connectErrorCode(error) {
  if (error?.data?.code) return error.data.code;
  return /\binvalid_token\b/.test(String(error?.message ?? '')) ? 'invalid_token' : null;
}

/**
 * handlers: onStatus(status), onMessage(M), onAcked(entry, M), onOutboxChange(entry), onRead(seq), onTyping(),
 * onConnection(connected), onInvalidToken(), onPersist(lastSeq, outboxEntries).
 * Outbox entries: {client_id, text, state: 'pending'|'failed', error, attempts, echoedSeq}.
 */
export class ChatSession {
  #socket = null;
  #handlers;
  #outbox = new Map();
  #seenSeqs = new Set();
  #contiguousSeq = 0;
  #lastTypingSent = 0;
  #gapTimer = null;
  #stopped = false;
  #stateClosed = false;
  #place = new QueuePlace();

  constructor({ token, outbox = [], handlers }) {
    this.token = token;
    this.#handlers = handlers;
    for (const { client_id, text } of outbox) {
      this.#outbox.set(client_id, { client_id, text, state: 'pending', error: null, attempts: 0, echoedSeq: null });
    }
  }

  /** Highest seq such that every message up to it has arrived: the cursor sent on every (re)connect. */
  get lastSeq() {
    return this.#contiguousSeq;
  }

  get connected() {
    return Boolean(this.#socket?.connected);
  }

  pendingEntries() {
    return [...this.#outbox.values()];
  }

  connect() {
    const socket = io('/relative', {
      // A function, so every reconnect sends the cursor as it is then.
      // queue_events: this page derives its queue position from the `queue` broadcast.
      auth: (callback) => callback({ token: this.token, after_seq: this.#contiguousSeq, queue_events: 1 }),
      transports: ['websocket'],
    });
    this.#socket = socket;
    socket.on('connect', () => {
      this.#notify('onConnection', true);
      for (const entry of this.#outbox.values()) this.#deliver(entry);
    });
    socket.on('disconnect', (reason) => {
      this.#notify('onConnection', false);
      // The client reconnects by itself except when the server closed the connection.
      if (reason === 'io server disconnect') this.#reconnectLater();
    });
    socket.on('connect_error', (error) => {
      if (connectErrorCode(error) === 'invalid_token') {
        this.#notify('onInvalidToken');
        this.close();
        return;
      }
      if (connectErrorCode(error) === 'too_many_sockets') {
        this.#notify('onRefused', 'too_many_sockets');
        this.close();
        return;
      }
      this.#notify('onConnection', false);
      if (!socket.active) this.#reconnectLater();
    });
    socket.on('status', (status) => this.#status(status));
    socket.on('queue', (round) => {
      const derived = this.#place.apply(round);
      if (derived === 'gap') this.#askStatus();
      else if (derived) this.#notify('onStatus', derived);
    });
    socket.on('message', (message) => this.#receive(message));
    socket.on('read', (payload) => {
      if (Number.isInteger(payload?.seq)) this.#notify('onRead', payload.seq);
    });
    socket.on('typing', () => this.#notify('onTyping'));
  }

  #status(status) {
    this.#stateClosed = status?.state === 'closed';
    this.#notify('onStatus', this.#place.fromStatus(status));
  }

  /** After a missed round: the current status (a labelled one follows from the server). */
  async #askStatus() {
    try {
      const answer = await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck('queue_status', {});
      if (answer?.ok && answer.status) this.#status(answer.status);
    } catch {
      // The next personal status or reconnect brings the position.
    }
  }

  /** Queue a message; it is shown as pending by the caller and delivered as soon as the socket allows. */
  send(text) {
    const entry = { client_id: crypto.randomUUID(), text, state: 'pending', error: null, attempts: 0, echoedSeq: null };
    this.#outbox.set(entry.client_id, entry);
    this.#persist();
    this.#deliver(entry);
    return entry;
  }

  /** Tell the counsellor we are typing, at most once every TYPING_INTERVAL_MS. */
  typing() {
    const now = Date.now();
    if (!this.connected || now - this.#lastTypingSent < TYPING_INTERVAL_MS) return;
    this.#lastTypingSent = now;
    this.#socket.emit('typing', {});
  }

  /** Wait for a counsellor who speaks the conversation's language ('wait') or take the next one ('any'). */
  async chooseLanguage(choice) {
    if (!this.connected) return { ok: false, error: { code: 'network' } };
    try {
      return await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck('choose_language', { choice });
    } catch {
      return { ok: false, error: { code: 'timeout' } };
    }
  }

  /** End the conversation. Resolves with the ack ({ok: true} or {ok: false, error}). */
  async leave() {
    if (!this.connected) return { ok: false, error: { code: 'network' } };
    try {
      return await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck('leave', {});
    } catch {
      return { ok: false, error: { code: 'timeout' } };
    }
  }

  close() {
    this.#stopped = true;
    clearTimeout(this.#gapTimer);
    this.#socket?.disconnect();
    this.#socket = null;
  }

  #reconnectLater() {
    setTimeout(() => {
      if (!this.#stopped && !this.#stateClosed && this.#socket && !this.#socket.connected) this.#socket.connect();
    }, RECONNECT_DELAY_MS);
  }

  #receive(message, { fromAck = false } = {}) {
    if (!message || !Number.isInteger(message.seq) || this.#seenSeqs.has(message.seq)) return;
    this.#seenSeqs.add(message.seq);
    while (this.#seenSeqs.has(this.#contiguousSeq + 1)) this.#contiguousSeq += 1;
    if (message.sender === 'relative' && !fromAck) this.#matchEcho(message);
    this.#notify('onMessage', message);
    this.#persist();
    if (message.seq > this.#contiguousSeq) this.#scheduleGapCheck();
  }

  /**
   * Our own message may come back as a `message` event before its ack. Tie it to the outbox entry (by client_id
   * when the server includes it, otherwise the oldest sent entry with the same text) so it is not shown twice.
   */
  #matchEcho(message) {
    const candidates = [...this.#outbox.values()].filter((entry) => entry.echoedSeq === null && entry.attempts > 0);
    const entry = candidates.find((item) => message.client_id && item.client_id === message.client_id)
      ?? (message.client_id ? undefined : candidates.find((item) => item.text === message.text));
    if (entry) {
      entry.echoedSeq = message.seq;
      this.#notify('onAcked', entry, message);
    }
  }

  /** A hole in the seq sequence on a live connection: ask for history once it has had time to fill. */
  #scheduleGapCheck() {
    clearTimeout(this.#gapTimer);
    this.#gapTimer = setTimeout(async () => {
      if (!this.connected) return;
      try {
        const ack = await this.#socket.timeout(ACK_TIMEOUT_MS).emitWithAck('history', { after_seq: this.#contiguousSeq });
        if (ack?.ok && Array.isArray(ack.messages)) for (const message of ack.messages) this.#receive(message);
      } catch {
        // The next reconnect replays from the same cursor.
      }
    }, GAP_CHECK_DELAY_MS);
  }

  async #deliver(entry) {
    if (entry.inFlight || entry.state === 'failed') return;
    entry.inFlight = true;
    try {
      while (this.#outbox.has(entry.client_id) && this.connected && !this.#stopped) {
        entry.attempts += 1;
        let ack;
        try {
          ack = await this.#socket.timeout(ACK_TIMEOUT_MS)
            .emitWithAck('send_message', { client_id: entry.client_id, text: entry.text });
        } catch {
          continue; // no ack in time: resend with the same client_id while connected, else on the next connect
        }
        if (ack?.ok && ack.message) {
          this.#outbox.delete(entry.client_id);
          this.#receive(ack.message, { fromAck: true });
          this.#notify('onAcked', entry, ack.message);
          this.#persist();
          return;
        }
        const code = ack?.error?.code ?? 'unknown';
        if (!PERMANENT_SEND_ERRORS.has(code)) {
          entry.error = code;
          this.#notify('onOutboxChange', entry);
          await sleep(RATE_LIMIT_RETRY_MS);
          continue;
        }
        this.#outbox.delete(entry.client_id);
        this.#persist();
        if (entry.echoedSeq === null) {
          entry.state = 'failed';
          entry.error = code;
          this.#notify('onOutboxChange', entry);
        }
        return;
      }
    } finally {
      entry.inFlight = false;
    }
  }

  /** Call a handler unless this session was closed: a replaced session must not touch the page. */
  #notify(name, ...args) {
    if (!this.#stopped) this.#handlers[name](...args);
  }

  #persist() {
    const entries = [...this.#outbox.values()].map(({ client_id, text }) => ({ client_id, text }));
    this.#notify('onPersist', this.#contiguousSeq, entries);
  }
}
