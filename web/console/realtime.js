// The /counsellor Socket.IO connection and a promise-based request helper.
import { io } from '/vendor/socket.io.esm.min.js';

const ACK_TIMEOUT_MS = 10000;

/** Open the staff socket; the browser sends the session cookie with the WebSocket handshake. */
export function connectCounsellor() {
  return io('/counsellor', { transports: ['websocket'], withCredentials: true });
}

/**
 * Emit an event and resolve with its ack. Never rejects: a timeout or a missing connection
 * resolves as an error ack too, so callers handle one shape ({ok, error: {code}}).
 */
export function ask(socket, event, payload, timeoutMs = ACK_TIMEOUT_MS) {
  if (!socket.connected) return Promise.resolve({ ok: false, error: { code: 'offline' } });
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, ack) => {
      if (err) resolve({ ok: false, error: { code: 'timeout' } });
      else if (ack && typeof ack === 'object') resolve(ack);
      else resolve({ ok: false, error: { code: 'invalid_ack' } });
    });
  });
}
