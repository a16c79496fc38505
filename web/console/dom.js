// Small DOM and formatting helpers shared by the console modules.
import { language, t } from '/shared/i18n.js';

/**
 * Create an element. props: `text` sets textContent, `on<event>` adds a listener,
 * anything else becomes an attribute (skipped when null, undefined or false).
 */
export function el(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') element.textContent = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

/** Show an error text in an element (role="alert"), or hide it when text is empty. */
export function showError(element, text) {
  element.textContent = text || '';
  element.hidden = !text;
}

/** Words for an error code: the shared `errors` section first, then console-only codes. */
export function errorText(code) {
  for (const key of [`errors.${code}`, `console.errors.${code}`]) {
    const text = t(key);
    if (text !== key) return text;
  }
  return t('console.errors.generic');
}

/** Label for a catalog key, or the raw id when the catalog has none (for ids added on the server later). */
export function labelFor(section, id) {
  const key = `${section}.${id}`;
  const text = t(key);
  return text === key ? String(id) : text;
}

/** A language code as a name in the console's own language, e.g. 'ar' -> 'arabiska (ar)' in Swedish. */
export function languageLabel(code) {
  let name = code;
  try {
    name = new Intl.DisplayNames([language()], { type: 'language' }).of(code) || code;
  } catch {
    // An unknown code keeps its raw form.
  }
  return name === code ? code : `${name.charAt(0).toLocaleUpperCase(language())}${name.slice(1)} (${code})`;
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit' }).format(date);
}

export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** Elapsed time since iso as m:ss or h:mm:ss (never negative). */
export function formatElapsed(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000)) || 0;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A v4 UUID; crypto.randomUUID needs a secure context, so fall back to getRandomValues. */
export function newClientId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Polite screen-reader announcement through the page's live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  window.setTimeout(() => { region.textContent = text; }, 50);
}
