// Catalog loader shared by the relative page and the console.
// Every user-facing string goes through t(); catalogs live in /i18n/<lang>.json.

const catalogs = new Map();
let current = { code: 'sv', data: null };
const FALLBACK = 'en';

async function fetchCatalog(code) {
  if (!catalogs.has(code)) {
    const response = await fetch(`/i18n/${encodeURIComponent(code)}.json`, { cache: 'no-cache' });
    if (!response.ok) throw new Error(`catalog ${code}: ${response.status}`);
    catalogs.set(code, await response.json());
  }
  return catalogs.get(code);
}

function lookup(data, key) {
  return key.split('.').reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), data);
}

/** Load a language (and the English fallback) and make it current. */
export async function setLanguage(code) {
  const [data] = await Promise.all([fetchCatalog(code), fetchCatalog(FALLBACK)]);
  current = { code, data };
  document.documentElement.lang = code;
  document.documentElement.dir = dir();
  return current;
}

export function language() {
  return current.code;
}

export function dir() {
  return lookup(current.data, 'meta.dir') === 'rtl' ? 'rtl' : 'ltr';
}

/** Translate key, replacing {name} placeholders from params. Missing keys fall back to English, then to the key. */
export function t(key, params = {}) {
  let text = lookup(current.data, key);
  if (typeof text !== 'string') text = lookup(catalogs.get(FALLBACK), key);
  if (typeof text !== 'string') text = key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Fill every element carrying data-i18n (text) or data-i18n-<attr> (attribute) under root. */
export function translateDom(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll('*')) {
    for (const attr of element.getAttributeNames()) {
      if (attr.startsWith('data-i18n-')) {
        element.setAttribute(attr.slice('data-i18n-'.length), t(element.getAttribute(attr)));
      }
    }
  }
}

export async function languageNames(codes) {
  const entries = await Promise.all(codes.map(async (code) => [code, lookup(await fetchCatalog(code), 'meta.name') || code]));
  return Object.fromEntries(entries);
}

/** t(key, params), or fallback when no catalog has a text for key. */
export function tOr(key, fallback, params = {}) {
  const text = t(key, params);
  return text === key ? fallback : text;
}
