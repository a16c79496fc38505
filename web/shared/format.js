// Language-aware formatting on top of t(), for both pages: plurals, numbers, error codes, weekdays,
// dates in the service time zone (the relative's page), and times in the reader's own zone and the
// browser's style for the language (the console).
// Browsers often ship no date data for Somali and Tigrinya; then weekday names come from the catalog
// (widget.weekday_<day>) and the relative's page uses a neutral 24-hour locale for numbers and times.

import { t, tOr, language } from '/shared/i18n.js';

const NEUTRAL_LOCALE = 'en-GB';
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** 2024-01-01 was a Monday. */
const REFERENCE_MONDAY_UTC = Date.UTC(2024, 0, 1, 12);

/** Whether the browser has real date data for the current language. */
function hasDateData() {
  return Intl.DateTimeFormat.supportedLocalesOf([language()]).length > 0;
}

/** The locale for Intl formatters, always with the Gregorian calendar (dates here are Swedish dates). */
function dateLocale() {
  return `${hasDateData() ? language() : NEUTRAL_LOCALE}-u-ca-gregory`;
}

function numberLocale() {
  return Intl.NumberFormat.supportedLocalesOf([language()]).length ? language() : NEUTRAL_LOCALE;
}

/** The error text for a protocol error code, or the generic one for a code the catalog does not know. */
export function errorText(code) {
  return tOr(`errors.${code}`, t('errors.unknown'));
}

export function formatNumber(value) {
  return new Intl.NumberFormat(numberLocale()).format(value);
}

/**
 * Plural-aware t(): looks up `${key}_${rule}` for the language's plural rule (one, two, few, many, other ...)
 * and falls back to `${key}_other`. {count} is filled with the formatted number.
 */
export function tCount(key, count, params = {}) {
  const rule = new Intl.PluralRules(language()).select(count);
  const allParams = { ...params, count: formatNumber(count) };
  return tOr(`${key}_${rule}`, t(`${key}_other`, allParams), allParams);
}

/** Weekday name for "mon" ... "sun". */
export function weekdayName(day) {
  const key = `widget.weekday_${day}`;
  const fromCatalog = t(key);
  if (fromCatalog !== key && !hasDateData()) return fromCatalog;
  return new Intl.DateTimeFormat(dateLocale(), { weekday: 'long', timeZone: 'UTC' })
    .format(new Date(REFERENCE_MONDAY_UTC + WEEKDAYS.indexOf(day) * 86400000));
}

/** The weekday key ("mon" ...) of a moment in a time zone. */
export function weekdayIn(date, timeZone) {
  const name = new Intl.DateTimeFormat('en-US', { weekday: 'short', timeZone }).format(date);
  return name.slice(0, 3).toLowerCase();
}

/** Time of day; for a plain clock time ("09:00") pass timeZone 'UTC' and a UTC date. */
export function formatTime(date, timeZone) {
  return new Intl.DateTimeFormat(dateLocale(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone })
    .format(date);
}

/** Date and time in a time zone, e.g. "torsdag 26 november 09:00". */
export function formatDateTime(isoTime, timeZone) {
  const date = new Date(isoTime);
  if (!hasDateData()) {
    const dayMonth = new Intl.DateTimeFormat(NEUTRAL_LOCALE, { day: 'numeric', month: 'numeric', timeZone }).format(date);
    return `${weekdayName(weekdayIn(date, timeZone))} ${dayMonth} ${formatTime(date, timeZone)}`;
  }
  return new Intl.DateTimeFormat(dateLocale(), {
    weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone,
  }).format(date);
}

/** A readable name for an IANA time zone ("centraleuropeisk tid"), or the zone id without underscores. */
export function timeZoneName(timeZone) {
  if (!hasDateData()) return timeZone.replaceAll('_', ' ');
  try {
    const parts = new Intl.DateTimeFormat(dateLocale(), { timeZone, timeZoneName: 'longGeneric' }).formatToParts(new Date());
    return parts.find((part) => part.type === 'timeZoneName')?.value ?? timeZone;
  } catch {
    return timeZone;
  }
}

/** Time of day in the reader's time zone and the language's own style, or '' for an invalid time. */
export function localTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit' }).format(date);
}

/** Date and time in the reader's time zone and the language's own style, or '' for an invalid time. */
export function localDateTime(iso) {
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

/** A language code as a name in the page's own language, e.g. 'ar' -> 'arabiska (ar)' in Swedish. */
export function languageLabel(code) {
  let name = code;
  try {
    name = new Intl.DisplayNames([language()], { type: 'language' }).of(code) || code;
  } catch {
    // An unknown code keeps its raw form.
  }
  return name === code ? code : `${name.charAt(0).toLocaleUpperCase(language())}${name.slice(1)} (${code})`;
}
