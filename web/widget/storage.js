// Everything the relative page remembers lives in sessionStorage: it dies with the tab and is wiped by
// quick exit. Never localStorage, never cookies. The resume code is never stored.

const CONVERSATION_KEY = 'kinline.conversation';
const OUTBOX_KEY = 'kinline.outbox';
const LANGUAGE_KEY = 'kinline.language';

function read(key) {
  try {
    const raw = sessionStorage.getItem(key);
    return raw === null ? null : JSON.parse(raw);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage can be unavailable (private mode, quota); the page still works for this tab's lifetime.
  }
}

function remove(key) {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // see write()
  }
}

/** {conversation_id, token, last_seq, surveyed} or null; surveyed: the end-of-chat survey is settled. */
export function loadConversation() {
  const stored = read(CONVERSATION_KEY);
  if (!stored || typeof stored.token !== 'string' || !stored.token) return null;
  return {
    conversation_id: stored.conversation_id, token: stored.token, last_seq: Number(stored.last_seq) || 0,
    surveyed: stored.surveyed === true,
  };
}

export function saveConversation({ conversation_id, token, last_seq = 0, surveyed = false }) {
  write(CONVERSATION_KEY, { conversation_id, token, last_seq, surveyed });
}

export function saveLastSeq(lastSeq) {
  const stored = loadConversation();
  if (stored && stored.last_seq !== lastSeq) saveConversation({ ...stored, last_seq: lastSeq });
}

/** Messages typed but not yet acknowledged: [{client_id, text}], so a reload does not lose them. */
export function loadOutbox() {
  const stored = read(OUTBOX_KEY);
  return Array.isArray(stored) ? stored.filter((entry) => entry && entry.client_id && typeof entry.text === 'string') : [];
}

export function markSurveyed() {
  const stored = loadConversation();
  if (stored) saveConversation({ ...stored, surveyed: true });
}

export function saveOutbox(entries) {
  if (entries.length) write(OUTBOX_KEY, entries);
  else remove(OUTBOX_KEY);
}

export function clearConversation() {
  remove(CONVERSATION_KEY);
  remove(OUTBOX_KEY);
}

export function loadLanguage() {
  const code = read(LANGUAGE_KEY);
  return typeof code === 'string' ? code : null;
}

export function saveLanguage(code) {
  write(LANGUAGE_KEY, code);
}

export function clearAll() {
  try {
    sessionStorage.clear();
  } catch {
    // see write()
  }
}
