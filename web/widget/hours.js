// Opening hours from GET /api/public: the weekly table and the "open now / opens again at" line,
// in the chosen language and always in the service's time zone.

import { t } from '/shared/i18n.js';
import { formatDateTime, formatTime, timeZoneName, weekdayIn, weekdayName } from '/shared/format.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "09:00" -> localized time of day; "24:00" (end of day) stays as it is. */
function formatClock(text) {
  const [hours, minutes] = text.trim().split(':').map(Number);
  if (!Number.isInteger(hours) || !Number.isInteger(minutes) || hours >= 24) return text.trim();
  return formatTime(new Date(Date.UTC(2024, 0, 1, hours, minutes)), 'UTC');
}

function formatInterval(text) {
  const [start, end] = text.split('-');
  return end === undefined ? text : `${formatClock(start)}\u2013${formatClock(end)}`;
}

/** One sentence about now: open around the clock, open until, or closed until. */
export function openNowText(info) {
  if (info.always_open) return t('widget.hours_always_open');
  if (info.open) {
    return info.closes_at
      ? t('widget.hours_open_until', { time: formatTime(new Date(info.closes_at), info.timezone) })
      : t('widget.hours_open_now');
  }
  return info.next_open
    ? t('widget.hours_closed_until', { when: formatDateTime(info.next_open, info.timezone) })
    : t('widget.hours_closed_now');
}

/** Fill the hours block: elements {now, caption, rows, timezone}. */
export function renderHours(elements, info) {
  elements.now.textContent = openNowText(info);
  elements.now.dataset.open = String(Boolean(info.open));
  elements.caption.textContent = t('widget.hours_heading');
  const today = weekdayIn(new Date(), info.timezone);
  const rows = info.always_open ? [] : WEEKDAYS.map((day) => {
    const row = document.createElement('tr');
    if (day === today) {
      row.className = 'today';
      row.setAttribute('aria-current', 'date');
    }
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = weekdayName(day);
    const times = document.createElement('td');
    const intervals = info.weekly?.[day] ?? [];
    times.textContent = intervals.length ? intervals.map(formatInterval).join(', ') : t('widget.hours_closed_day');
    row.append(name, times);
    return row;
  });
  elements.rows.replaceChildren(...rows);
  elements.rows.closest('table').hidden = rows.length === 0;
  elements.timezone.textContent = info.always_open ? '' : t('widget.hours_timezone', { zone: timeZoneName(info.timezone) });
}
