// HTTP calls to the staff API (docs/protocol.md). The session cookie travels with every request.
import { request as sharedRequest } from '/shared/api.js';

function fallbackCode(status) {
  return status === 0 ? 'offline' : `http_${status}`;
}

let onUnauthenticated = () => {};

/** Called when a staff request answers 401 (the session expired or was ended elsewhere). */
export function setUnauthenticatedHandler(handler) {
  onUnauthenticated = handler;
}

function request(method, path, body) {
  return sharedRequest(method, path, body, { credentials: 'same-origin', accept: 'application/json', fallbackCode });
}

/** A staff request; a 401 hands control back to the login screen before the error propagates. */
export async function staffRequest(method, path, body) {
  try {
    return await request(method, path, body);
  } catch (error) {
    if (error.status === 401) onUnauthenticated();
    throw error;
  }
}

/** The one code field takes an authenticator code (6 digits) or a recovery code. */
export function login(username, password, code = '') {
  const body = { username, password };
  const compact = code.replace(/[\s-]/g, '');
  if (/^[0-9]{6}$/.test(compact)) body.totp = compact;
  else if (compact) body.recovery_code = code.trim();
  return request('POST', '/api/auth/login', body);
}
export const logout = () => request('POST', '/api/auth/logout');
export const me = () => request('GET', '/api/me');
export const totpStatus = () => staffRequest('GET', '/api/auth/totp');
export const startTotpEnrollment = () => staffRequest('POST', '/api/auth/totp/enroll');
export const confirmTotpEnrollment = (code) => staffRequest('POST', '/api/auth/totp/confirm', { code });
export const staffSettings = () => staffRequest('GET', '/api/staff/settings');
export const cannedAnswers = (language) =>
  staffRequest('GET', `/api/staff/canned?language=${encodeURIComponent(language)}`);
export const closedConversations = () => staffRequest('GET', '/api/staff/conversations?state=closed&limit=50');
export const conversationDetail = (id) => staffRequest('GET', `/api/staff/conversations/${encodeURIComponent(id)}`);
