// The escalation calls of the staff API and the /escalations socket, which says "something changed"
// (ids only): what the signed-in user may see is then read over HTTP, where every read leaves an audit row.
import { io } from '/vendor/socket.io.esm.min.js';
import { staffRequest as request } from '../api.js';

const path = (id, action = '') => `/api/escalations/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

export const config = () => request('GET', '/api/escalations/config');
export const list = () => request('GET', '/api/escalations');
export const detail = (id) => request('GET', path(id));
/** verb: approve, send-back, acknowledge or outcome. */
export const act = (id, verb, body) => request('POST', path(id, verb), body);
export const transcript = (id) => request('GET', path(id, 'transcript'));
/** The audit trail of one escalation, or of all of them when id is null. */
export const audit = (id) => request('GET', `/api/escalations/audit${id ? `?escalation_id=${encodeURIComponent(id)}` : ''}`);
export const draft = (conversationId, body) => request('POST', '/api/escalations', { ...body, conversation_id: conversationId });
export const resubmit = (id, body) => request('POST', path(id, 'resubmit'), body);
/** Whether the staff session still holds (a 401 shows the sign-in screen). */
export const me = () => request('GET', '/api/me');

export function connect() {
  return io('/escalations', { transports: ['websocket'], withCredentials: true });
}
