// Escalations in words: states, errors, deadlines. No DOM here.
import { t, tOr } from '/shared/i18n.js';
import { errorText } from '../dom.js';

export function stateLabel(state) {
  return tOr(`escalation.console.states.${state}`, state);
}

/** An error code in words, with the field the server named for invalid requests. */
export function describeError(error) {
  const base = tOr(`escalation.console.errors.${error.code}`, errorText(error.code));
  if (error.code === 'invalid_request' && error.message && error.message.includes(':')) {
    const field = error.message.split(':', 1)[0].trim();
    const key = field === 'contact' ? 'contact_details' : field;
    return `${base} (${tOr(`escalation.console.fields.${key}`, field)})`;
  }
  return base;
}

export function alertText(reason) {
  return tOr(`escalation.console.alerts.${reason}`, t('escalation.console.alerts.generic'));
}

function formatDuration(totalSeconds) {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return t('escalation.console.duration_hm', { h, m });
  if (m > 0) return t('escalation.console.duration_ms', { m, s });
  return t('escalation.console.duration_s', { s });
}

export function deadlineText(item, now = Date.now()) {
  if (!item.deadline || item.state !== 'sent') return '';
  const left = (new Date(item.deadline).getTime() - now) / 1000;
  return left > 0
    ? t('escalation.console.deadline_in', { time: formatDuration(left) })
    : t('escalation.console.overdue_by', { time: formatDuration(-left) });
}
