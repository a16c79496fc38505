// The one HTTP wrapper of both pages. A JSON body goes out as JSON; an error answer carries
// {"error": {"code", "message"}} (server/transports/errors.py), and a 429 may carry Retry-After in seconds.

/** A request that did not succeed. status 0: the network failed before any answer. */
export class ApiError extends Error {
  /** retryAfter: the whole seconds of a 429's Retry-After header, or null. */
  constructor(status, code, message, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function retryAfterSeconds(response) {
  const seconds = Number.parseInt(response.headers.get('Retry-After') || '', 10);
  return Number.isFinite(seconds) ? seconds : null;
}

function isCalendar(response) {
  return (response.headers.get('Content-Type') || '').startsWith('text/calendar');
}

/**
 * Send one request and read the answer: its JSON (null when there is none, e.g. 204), or a Blob for a
 * calendar file. Throws ApiError; its code is the server's, else fallbackCode(status) (status 0 = no answer).
 *
 * credentials: 'omit' on the relative's page (its token travels in the body, never a cookie),
 * 'same-origin' in the console (the session cookie). accept: an Accept header, or none.
 */
export async function request(method, path, body, { credentials, accept = null, fallbackCode }) {
  const headers = accept ? { Accept: accept } : {};
  const init = { method, credentials, cache: 'no-store', headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, fallbackCode(0));
  }
  if (response.ok && isCalendar(response)) return response.blob();
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const code = data?.error?.code || fallbackCode(response.status);
    throw new ApiError(response.status, code, data?.error?.message, retryAfterSeconds(response));
  }
  return data;
}
