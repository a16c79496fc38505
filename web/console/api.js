// HTTP calls to the staff API (docs/protocol.md). The session cookie travels with every request.

export class ApiError extends Error {
  /** retryAfter: the whole seconds of a 429's Retry-After header, or null. */
  constructor(status, code, message, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let onUnauthenticated = () => {};

/** Called when a staff request answers 401 (the session expired or was ended elsewhere). */
export function setUnauthenticatedHandler(handler) {
  onUnauthenticated = handler;
}

async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'offline');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const code = data?.error?.code || `http_${response.status}`;
    const seconds = Number.parseInt(response.headers.get('Retry-After') || '', 10);
    const retryAfter = Number.isFinite(seconds) ? seconds : null;
    throw new ApiError(response.status, code, data?.error?.message, retryAfter);
  }
  return data;
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
