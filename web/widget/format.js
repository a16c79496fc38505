// Language-aware formatting on top of t(): plurals, numbers, error codes, dates in the service time zone.

import { t, language } from '/shared/i18n.js';

/** The error text for a protocol error code, or the generic one for a code the catalog does not know. */
export function errorText(code) {
  const key = `errors.${code}`;
  const text = t(key);
  return text === key ? t('errors.unknown') : text;
}

export function formatNumber(value) {
  return new Intl.NumberFormat(language()).format(value);
}

/**
 * Plural-aware t(): looks up `${key}_${rule}` for the language's plural rule (one, two, few, many, other ...)
 * and falls back to `${key}_other`. {count} is filled with the formatted number.
 */
export function tCount(key, count, params = {}) {
  const rule = new Intl.PluralRules(language()).select(count);
  const allParams = { ...params, count: formatNumber(count) };
  const specificKey = `${key}_${rule}`;
  const text = t(specificKey, allParams);
  return text === specificKey ? t(`${key}_other`, allParams) : text;
}

/** Date and time in the service's time zone, e.g. "tisdag 26 november 09:00". */
export function formatDateTime(isoTime, timeZone) {
  return new Intl.DateTimeFormat(language(), {
    weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', timeZone,
  }).format(new Date(isoTime));
}

export function formatTimeIn(isoTime, timeZone) {
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date(isoTime));
}
