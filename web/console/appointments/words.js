// Appointments in words and times, in the console's language. No DOM here.
import { language, t, tOr } from '/shared/i18n.js';
import { errorText } from '../dom.js';

export function tb(key, params) {
  return t(`booking.console.${key}`, params);
}

export function describe(error) {
  return tOr(`booking.errors.${error.code}`, errorText(error.code));
}

export function kindName(kind) {
  return tOr(`booking.kind_${kind}`, kind);
}

export function clock(iso) {
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

export function dayTitle(date) {
  const text = new Intl.DateTimeFormat(language(), { weekday: 'long', day: 'numeric', month: 'long' }).format(date);
  return text.charAt(0).toLocaleUpperCase(language()) + text.slice(1);
}

export function offsetText(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** index 0 = Monday. */
export function weekdayName(index) {
  // 2024-01-01 was a Monday.
  return new Intl.DateTimeFormat(language(), { weekday: 'long' }).format(new Date(2024, 0, 1 + index));
}
