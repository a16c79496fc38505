// What the appointments view knows: the user, the day or week shown, the appointments in it and the
// phone numbers revealed on request. Days and weeks are the reader's own (local time, weeks from Monday).
// No DOM and no HTTP here.

export const DAY_MS = 86400000;
export const WEEKDAY_COUNT = 7;

export function startOfDay(date) {
  const copy = new Date(date);
  copy.setHours(0, 0, 0, 0);
  return copy;
}

export function startOfWeek(date) {
  const day = startOfDay(date);
  day.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  return day;
}

export function isoDate(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

export class AppointmentsState {
  constructor() {
    this.user = null;
    this.items = new Map();
    this.mode = 'week';
    this.anchor = startOfWeek(new Date());
    this.revealed = new Map();
  }

  clear() {
    this.user = null;
    this.items.clear();
    this.revealed.clear();
  }

  /** The shown period: from its first midnight up to (not including) the midnight after it. */
  range() {
    const from = this.mode === 'day' ? startOfDay(this.anchor) : startOfWeek(this.anchor);
    const days = this.mode === 'day' ? 1 : WEEKDAY_COUNT;
    const to = new Date(from);
    to.setDate(to.getDate() + days);
    return { from, to };
  }

  setMode(mode) {
    this.mode = mode;
    if (mode === 'week') this.anchor = startOfWeek(this.anchor);
  }

  move(step) {
    const next = new Date(this.anchor);
    next.setDate(next.getDate() + step * (this.mode === 'day' ? 1 : WEEKDAY_COUNT));
    this.anchor = next;
  }

  goToday() {
    this.anchor = this.mode === 'day' ? startOfDay(new Date()) : startOfWeek(new Date());
  }

  replaceAll(appointments) {
    this.items = new Map(appointments.map((item) => [item.appointment_id, item]));
  }

  update(item) {
    this.items.set(item.appointment_id, item);
  }

  /** Take pushed appointments that fall in the shown period; returns the newly booked ones. */
  merge(appointments) {
    const { from, to } = this.range();
    const booked = [];
    for (const item of appointments) {
      const start = new Date(item.start);
      const isNew = !this.items.has(item.appointment_id);
      if (start >= from && start < to) this.items.set(item.appointment_id, item);
      if (isNew && item.state === 'booked') booked.push(item);
    }
    return booked;
  }

  /** The appointments in start order, grouped by local day: [[isoDate, items], ...]. */
  byDay() {
    const items = [...this.items.values()].sort((a, b) => a.start.localeCompare(b.start));
    const days = new Map();
    for (const item of items) {
      const day = isoDate(new Date(item.start));
      if (!days.has(day)) days.set(day, []);
      days.get(day).push(item);
    }
    return [...days];
  }

  /** Counsellors act on their own appointments; supervisors and administrators on all. */
  mayAct(item) {
    return Boolean(this.user && (this.user.role !== 'counsellor' || item.counsellor_id === this.user.id));
  }
}
