// ISO weeks as the statistics API takes them: "2026-W05".

const DAY = 86400000;

/** The ISO week that holds date (in the browser's own calendar). */
export function isoWeek(date) {
  const day = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day - Date.UTC(year, 0, 1)) / DAY + 1) / 7);
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The last `count` weeks up to and including this one. */
export function lastWeeks(count, today = new Date()) {
  const first = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 7 * (count - 1));
  return { from: isoWeek(first), to: isoWeek(today) };
}

export const WEEK_PATTERN = '[0-9]{4}-W[0-9]{2}';
