// Console-only helpers: its error vocabulary, labels for server ids, client ids, the screen-reader announcer.
import { t, tOr } from '/shared/i18n.js';

/** Words for an error code: the shared `errors` section first, then console-only codes. */
export function errorText(code) {
  return tOr(`errors.${code}`, tOr(`console.errors.${code}`, t('console.errors.generic')));
}

/** Label for a catalog key, or the raw id when the catalog has none (for ids added on the server later). */
export function labelFor(section, id) {
  return tOr(`${section}.${id}`, String(id));
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

const RIGHT_TO_LEFT = new Set(['ar', 'fa', 'he', 'ps', 'ur', 'ckb', 'dv', 'yi']);

/** 'rtl' or 'ltr' for a language code, so text in a language other than the console's runs its own way. */
export function textDirection(code) {
  try {
    const locale = new Intl.Locale(code);
    const info = typeof locale.getTextInfo === 'function' ? locale.getTextInfo() : locale.textInfo;
    if (info?.direction) return info.direction;
  } catch {
    // An unknown code falls through to the list.
  }
  return RIGHT_TO_LEFT.has(String(code).split('-')[0]) ? 'rtl' : 'ltr';
}
