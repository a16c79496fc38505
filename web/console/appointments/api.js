// The appointment calls of the staff API. Changes arrive on the /counsellor socket (`appointments`).
import { staffRequest as request } from '../api.js';

const appointment = (id, action) => `/api/staff/appointments/${encodeURIComponent(id)}/${action}`;

export const inRange = (from, to) =>
  request('GET', `/api/staff/appointments?${new URLSearchParams({ from: from.toISOString(), to: to.toISOString() })}`);
export const phone = (id) => request('GET', appointment(id, 'phone'));
/** action: outcome or cancel. */
export const act = (id, action, body) => request('POST', appointment(id, action), body);
export const availability = () => request('GET', '/api/me/availability');
export const saveAvailability = (data) => request('PUT', '/api/me/availability', data);
export const bookingOptions = () => request('GET', '/api/booking/options');
export const heldConversations = () => request('GET', '/api/staff/booking/conversations');
export const slots = (query) => request('GET', `/api/slots?${new URLSearchParams(query)}`);
export const offerSlots = (conversationId, body) =>
  request('POST', `/api/staff/conversations/${encodeURIComponent(conversationId)}/slot-offer`, body);
export const outbox = () => request('GET', '/api/staff/sms-outbox?limit=50');
