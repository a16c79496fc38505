// HTTP on the relative's page: no cookies travel (credentials 'omit'); the conversation token and codes go in bodies.
import { ApiError, request } from '/shared/api.js';

function fallbackCode(status) {
  if (status === 0) return 'network';
  return status === 429 ? 'rate_limited' : 'unknown';
}

/**
 * Never throws: resolves to {ok: true, data} (or {ok: true, blob} for a calendar file),
 * or {ok: false, status, code} with an error code the `errors` catalog section knows.
 */
export async function call(method, path, body) {
  try {
    const answer = await request(method, path, body, { credentials: 'omit', fallbackCode });
    return answer instanceof Blob ? { ok: true, blob: answer } : { ok: true, data: answer };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { ok: false, status: error.status, code: error.code };
  }
}
