// Appointments in the console: a day and week view with the SMS delivery status of every text, marking
// attended or no-show, cancelling with a text to the relative, the counsellor's availability editor,
// offering times inside a chat, and (for administrators) the SMS outbox. Live: the /counsellor socket
// pushes `appointments` with every changed appointment, so nothing here needs a reload.
import { language, t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { languageLabel, localDateTime } from '/shared/format.js';
import { announce, errorText } from './dom.js';
import { staffRequest as request } from './api.js';

const DAY_MS = 86400000;
const WEEKDAY_COUNT = 7;
const MAX_OFFER = 6;

// ---- words and times ----

function tb(key, params) {
  return t(`booking.console.${key}`, params);
}

/** The provider's error code (20429, 21610, 30005...) of a text that did not get through. */
function textError(text) {
  if (!text.error_code || ['sent', 'delivered'].includes(text.state)) return null;
  return el('span', { class: 'appointment__text-error', 'data-testid': 'appointment-text-error', translate: 'no', text: ` · ${tb('text_error', { code: text.error_code })}` });
}

function describe(error) {
  const key = `booking.errors.${error.code}`;
  const text = t(key);
  return text === key ? errorText(error.code) : text;
}

function kindName(kind) {
  const key = `booking.kind_${kind}`;
  const text = t(key);
  return text === key ? kind : text;
}

function clock(iso) {
  return new Intl.DateTimeFormat(language(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
}

function dayTitle(date) {
  const text = new Intl.DateTimeFormat(language(), { weekday: 'long', day: 'numeric', month: 'long' }).format(date);
  return text.charAt(0).toLocaleUpperCase(language()) + text.slice(1);
}

function offsetText(seconds) {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function startOfDay(date) {
  const copy = new Date(date);
  copy.setHours(0, 0, 0, 0);
  return copy;
}

function startOfWeek(date) {
  const day = startOfDay(date);
  day.setDate(day.getDate() - ((day.getDay() + 6) % 7));
  return day;
}

function isoDate(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function weekdayName(index) {
  // 2024-01-01 was a Monday.
  return new Intl.DateTimeFormat(language(), { weekday: 'long' }).format(new Date(2024, 0, 1 + index));
}

// ---- the view ----

export class AppointmentsView {
  constructor({ root }) {
    this.root = root;
    this.user = null;
    this.socket = null;
    this.items = new Map();
    this.mode = 'week';
    this.anchor = startOfWeek(new Date());
    this.revealed = new Map();
    this.visible = false;
    this.options = null;
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'appointments-heading' });
    this.modeButtons = ['day', 'week'].map((mode) => el('button', {
      type: 'button', class: 'view-button', 'data-mode': mode, 'data-testid': `appointments-${mode}`,
      onclick: () => this.setMode(mode),
    }));
    this.previous = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.move(-1) });
    this.today = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.goToday() });
    this.next = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.move(1) });
    this.rangeLabel = el('p', { class: 'appointments__range', 'data-testid': 'appointments-range' });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.list = el('div', { class: 'appointments__list', 'data-testid': 'appointments-list' });
    this.empty = el('p', { class: 'appointments__empty', hidden: true });
    this.availability = new AvailabilityEditor(this);
    this.offer = new OfferForm(this);
    this.outbox = new OutboxPanel();
    this.root.replaceChildren(
      el('div', { class: 'appointments__main' },
        el('div', { class: 'appointments__head' }, this.heading,
          el('div', { class: 'appointments__modes', role: 'group' }, ...this.modeButtons),
          el('div', { class: 'appointments__nav' }, this.previous, this.today, this.next)),
        this.rangeLabel, this.error, this.list, this.empty),
      el('aside', { class: 'appointments__side' }, this.availability.element, this.offer.element, this.outbox.element),
    );
  }

  start(user, socket) {
    this.stop();
    this.user = user;
    this.socket = socket;
    socket.on('appointments', (payload) => this.onPush(payload?.appointments || []));
    socket.on('connect', () => this.visible && this.reload());
    this.outbox.element.hidden = user.role !== 'admin';
    this.retranslate();
  }

  stop() {
    this.visible = false;
    this.socket?.off('appointments');
    this.socket = null;
    this.user = null;
    this.items.clear();
    this.revealed.clear();
    this.list.replaceChildren();
  }

  /** Called on every view switch; loading happens when the view opens. */
  async setVisible(visible) {
    const opening = visible && !this.visible;
    this.visible = visible;
    if (opening && this.user) {
      await Promise.all([this.reload(), this.availability.load(), this.offer.load(), this.outbox.load(this.user)]);
    }
  }

  retranslate() {
    this.heading.textContent = tb('heading');
    this.modeButtons.forEach((button) => {
      button.textContent = tb(button.dataset.mode);
      button.setAttribute('aria-pressed', String(button.dataset.mode === this.mode));
    });
    this.previous.textContent = tb('previous');
    this.today.textContent = tb('today');
    this.next.textContent = tb('next');
    this.empty.textContent = tb('empty');
    this.availability.retranslate();
    this.offer.retranslate();
    this.outbox.retranslate();
    this.render();
  }

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
    this.retranslate();
    this.reload();
  }

  move(step) {
    const next = new Date(this.anchor);
    next.setDate(next.getDate() + step * (this.mode === 'day' ? 1 : WEEKDAY_COUNT));
    this.anchor = next;
    this.reload();
  }

  goToday() {
    this.anchor = this.mode === 'day' ? startOfDay(new Date()) : startOfWeek(new Date());
    this.reload();
  }

  async reload() {
    if (!this.user) return;
    const { from, to } = this.range();
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    try {
      const data = await request('GET', `/api/staff/appointments?${query}`);
      this.items = new Map(data.appointments.map((item) => [item.appointment_id, item]));
      showError(this.error, '');
    } catch (error) {
      showError(this.error, describe(error));
    }
    this.render();
  }

  onPush(appointments) {
    const { from, to } = this.range();
    for (const item of appointments) {
      const start = new Date(item.start);
      const isNew = !this.items.has(item.appointment_id);
      if (start >= from && start < to) this.items.set(item.appointment_id, item);
      if (isNew && item.state === 'booked' && this.visible) announce(tb('announce_new', { when: localDateTime(item.start) }));
    }
    this.render();
  }

  render() {
    const { from, to } = this.range();
    const last = new Date(to.getTime() - DAY_MS / 2);
    this.rangeLabel.textContent = this.mode === 'day' ? dayTitle(from) : `${dayTitle(from)} – ${dayTitle(last)}`;
    const items = [...this.items.values()].sort((a, b) => a.start.localeCompare(b.start));
    const byDay = new Map();
    for (const item of items) {
      const day = isoDate(new Date(item.start));
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push(item);
    }
    this.list.replaceChildren(...[...byDay].map(([, dayItems]) => el('section', { class: 'appointments__day' },
      el('h3', { text: dayTitle(new Date(dayItems[0].start)) }),
      el('ol', { class: 'appointments__items' }, ...dayItems.map((item) => this.renderItem(item))))));
    this.empty.hidden = items.length > 0;
  }

  renderItem(item) {
    const started = new Date(item.start) <= new Date();
    const booked = item.state === 'booked';
    const mayAct = this.user && (this.user.role !== 'counsellor' || item.counsellor_id === this.user.id);
    const phone = this.revealed.get(item.appointment_id);
    const actions = booked && mayAct ? el('div', { class: 'appointment__actions' },
      item.kind === 'phone' && item.has_phone && !phone ? el('button', {
        type: 'button', class: 'button', 'data-testid': 'appointment-phone', text: tb('show_phone'),
        onclick: () => this.reveal(item),
      }) : null,
      started ? el('button', { type: 'button', class: 'button', 'data-testid': 'appointment-attended', text: tb('attended'), onclick: () => this.outcome(item, 'attended') }) : null,
      started ? el('button', { type: 'button', class: 'button', 'data-testid': 'appointment-no-show', text: tb('no_show'), onclick: () => this.outcome(item, 'no_show') }) : null,
      el('button', { type: 'button', class: 'button button--danger', 'data-testid': 'appointment-cancel', text: tb('cancel'), onclick: () => this.cancel(item) }),
    ) : null;
    return el('li', {
      class: `appointment appointment--${item.state}${item.sms_problem ? ' appointment--problem' : ''}`,
      'data-testid': 'appointment', 'data-reference': item.reference, 'data-state': item.state,
    },
    el('div', { class: 'appointment__time', text: `${clock(item.start)}–${clock(item.end)}` }),
    el('div', { class: 'appointment__body' },
      el('p', { class: 'appointment__title' },
        el('strong', { text: kindName(item.kind) }), ` · ${languageLabel(item.language)} · `,
        el('span', { class: 'appointment__reference', translate: 'no', text: item.reference })),
      el('p', { class: 'appointment__meta' },
        el('span', { class: `badge appointment__state appointment__state--${item.state}`, 'data-testid': 'appointment-state', text: tb(`state_${item.state}`) }),
        ` ${tb('counsellor', { name: item.counsellor_name })}`,
        item.conversation_id ? el('span', { class: 'badge', text: tb('from_chat') }) : null,
        item.cancelled_by ? ` · ${tb(`cancelled_by_${item.cancelled_by}`)}` : null),
      phone ? el('p', { class: 'appointment__phone', 'data-testid': 'appointment-phone-number', translate: 'no', text: tb('phone', { phone }) }) : null,
      item.sms_problem ? el('p', { class: 'form-error', 'data-testid': 'appointment-sms-problem', text: tb('sms_problem') }) : null,
      el('ul', { class: 'appointment__texts', 'data-testid': 'appointment-texts', 'aria-label': tb('texts_label') },
        ...item.texts.map((text) => el('li', { 'data-state': text.state, 'data-purpose': text.purpose },
          `${text.purpose === 'reminder' ? tb('text_reminder', { offset: offsetText(text.offset_seconds) }) : tb(`text_${text.purpose}`)}: `,
          el('span', { class: 'appointment__text-state', text: tb(`text_state_${text.state}`) }),
          textError(text)))),
      actions));
  }

  async reveal(item) {
    try {
      const { phone } = await request('GET', `/api/staff/appointments/${encodeURIComponent(item.appointment_id)}/phone`);
      this.revealed.set(item.appointment_id, phone);
    } catch (error) {
      showError(this.error, describe(error));
    }
    this.render();
  }

  async outcome(item, outcome) {
    await this.act(item, 'outcome', { outcome });
  }

  async cancel(item) {
    if (!window.confirm(tb('cancel_confirm'))) return;
    await this.act(item, 'cancel');
  }

  async act(item, action, body = {}) {
    try {
      const data = await request('POST', `/api/staff/appointments/${encodeURIComponent(item.appointment_id)}/${action}`, body);
      this.items.set(item.appointment_id, data.appointment);
      showError(this.error, '');
    } catch (error) {
      showError(this.error, describe(error));
    }
    this.render();
  }
}

// ---- the availability editor ----

class AvailabilityEditor {
  constructor(view) {
    this.view = view;
    this.languages = ['sv', 'en', 'ar', 'so', 'fa', 'ti'];
    this.heading = el('h3');
    this.languageLegend = el('legend');
    this.languageBoxes = el('div', { class: 'availability__languages' });
    this.weeklyLegend = el('legend');
    this.weekly = el('ol', { class: 'availability__rows', 'data-testid': 'availability-weekly' });
    this.addWindow = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.addRow({ weekday: 0, start: '09:00', end: '17:00' }) });
    this.exceptionsLegend = el('legend');
    this.exceptions = el('ol', { class: 'availability__rows', 'data-testid': 'availability-exceptions' });
    this.addException = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.addExceptionRow({ date: isoDate(new Date()), available: false }) });
    this.status = el('p', { class: 'availability__status', role: 'status' });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.save = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'availability-save' });
    this.element = el('form', { class: 'side-card availability', 'data-testid': 'availability', novalidate: true, onsubmit: (event) => this.submit(event) },
      this.heading,
      el('fieldset', {}, this.languageLegend, this.languageBoxes),
      el('fieldset', {}, this.weeklyLegend, this.weekly, this.addWindow),
      el('fieldset', {}, this.exceptionsLegend, this.exceptions, this.addException),
      this.error, this.status, this.save);
  }

  retranslate() {
    this.heading.textContent = tb('availability_heading');
    this.languageLegend.textContent = tb('languages_legend');
    this.weeklyLegend.textContent = tb('weekly_legend');
    this.addWindow.textContent = tb('add_window');
    this.exceptionsLegend.textContent = tb('exceptions_legend');
    this.addException.textContent = tb('add_exception');
    this.save.textContent = tb('save');
    if (this.data) this.fill(this.readForm());
  }

  async load() {
    try {
      this.data = await request('GET', '/api/me/availability');
      this.fill(this.data);
    } catch (error) {
      showError(this.error, describe(error));
    }
  }

  fill(data) {
    this.languageBoxes.replaceChildren(...this.languages.map((code) => el('label', { class: 'availability__language' },
      el('input', { type: 'checkbox', value: code, checked: data.languages.includes(code), 'data-testid': `availability-language-${code}` }),
      ` ${languageLabel(code)}`)));
    this.weekly.replaceChildren();
    data.weekly.forEach((row) => this.addRow(row));
    this.exceptions.replaceChildren();
    data.exceptions.forEach((row) => this.addExceptionRow(row));
  }

  addRow({ weekday, start, end }) {
    const select = el('select', { 'aria-label': tb('weekday') },
      ...Array.from({ length: WEEKDAY_COUNT }, (_, index) => el('option', { value: index, selected: index === weekday, text: weekdayName(index) })));
    const row = el('li', { class: 'availability__row', 'data-role': 'weekly' },
      select,
      el('input', { type: 'time', value: start, 'aria-label': tb('from'), 'data-role': 'start' }),
      el('input', { type: 'time', value: end === '24:00' ? '23:59' : end, 'aria-label': tb('to'), 'data-role': 'end', 'data-end': end }),
      el('button', { type: 'button', class: 'button button--quiet', text: tb('remove'), onclick: () => row.remove() }));
    this.weekly.append(row);
  }

  addExceptionRow({ date, available, start = '', end = '' }) {
    const kind = available ? 'extra' : start ? 'off_between' : 'off_day';
    const select = el('select', { 'data-role': 'kind', 'aria-label': tb('exception_kind') },
      ...['off_day', 'off_between', 'extra'].map((value) => el('option', { value, selected: value === kind, text: tb(`exception_${value}`) })));
    const times = [
      el('input', { type: 'time', value: start, 'aria-label': tb('from'), 'data-role': 'start' }),
      el('input', { type: 'time', value: end, 'aria-label': tb('to'), 'data-role': 'end' }),
    ];
    const syncTimes = () => times.forEach((input) => { input.hidden = select.value === 'off_day'; });
    select.addEventListener('change', syncTimes);
    syncTimes();
    const row = el('li', { class: 'availability__row', 'data-role': 'exception' },
      el('input', { type: 'date', value: date, 'aria-label': tb('date'), 'data-role': 'date' }),
      select, ...times,
      el('button', { type: 'button', class: 'button button--quiet', text: tb('remove'), onclick: () => row.remove() }));
    this.exceptions.append(row);
  }

  readForm() {
    const value = (row, role) => row.querySelector(`[data-role="${role}"]`).value;
    return {
      languages: [...this.languageBoxes.querySelectorAll('input:checked')].map((input) => input.value),
      weekly: [...this.weekly.children].map((row) => {
        const endInput = row.querySelector('[data-role="end"]');
        const end = endInput.value === '23:59' && endInput.dataset.end === '24:00' ? '24:00' : endInput.value;
        return { weekday: Number(row.querySelector('select').value), start: value(row, 'start'), end };
      }),
      exceptions: [...this.exceptions.children].map((row) => {
        const kind = value(row, 'kind');
        const entry = { date: value(row, 'date'), available: kind === 'extra' };
        if (kind !== 'off_day') Object.assign(entry, { start: value(row, 'start'), end: value(row, 'end') });
        return entry;
      }),
    };
  }

  async submit(event) {
    event.preventDefault();
    this.status.textContent = '';
    try {
      this.data = await request('PUT', '/api/me/availability', this.readForm());
      this.fill(this.data);
      showError(this.error, '');
      this.status.textContent = tb('saved');
    } catch (error) {
      showError(this.error, describe(error));
    }
  }
}

// ---- offering times in a chat ----

class OfferForm {
  constructor(view) {
    this.view = view;
    this.heading = el('h3');
    this.conversation = el('select', { 'data-testid': 'offer-conversation', onchange: () => this.loadSlots() });
    this.kind = el('select', { 'data-testid': 'offer-kind', onchange: () => this.loadSlots() });
    this.conversationLabel = el('span');
    this.kindLabel = el('span');
    this.chooseLabel = el('legend');
    this.slots = el('div', { class: 'offer__slots', 'data-testid': 'offer-slots' });
    this.none = el('p', { class: 'appointments__empty', hidden: true });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.status = el('p', { role: 'status' });
    this.send = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'offer-send' });
    this.body = el('div', {},
      el('label', { class: 'field' }, this.conversationLabel, this.conversation),
      el('label', { class: 'field' }, this.kindLabel, this.kind),
      el('fieldset', {}, this.chooseLabel, this.slots),
      this.error, this.status, this.send);
    this.element = el('form', { class: 'side-card offer', 'data-testid': 'offer', novalidate: true, onsubmit: (event) => this.submit(event) },
      this.heading, this.none, this.body);
    this.conversations = [];
  }

  retranslate() {
    this.heading.textContent = tb('offer_heading');
    this.conversationLabel.textContent = tb('offer_conversation');
    this.kindLabel.textContent = tb('offer_kind');
    this.chooseLabel.textContent = tb('offer_choose', { count: MAX_OFFER });
    this.none.textContent = tb('offer_none');
    this.send.textContent = tb('offer_send');
  }

  async load() {
    try {
      const [options, held] = await Promise.all([
        request('GET', '/api/booking/options'),
        request('GET', '/api/staff/booking/conversations'),
      ]);
      this.conversations = held.conversations;
      this.kind.replaceChildren(...options.kinds.map((kind) => el('option', { value: kind.id, text: kindName(kind.id) })));
      this.conversation.replaceChildren(...this.conversations.map((c) => el('option', {
        value: c.conversation_id, 'data-language': c.language,
        text: tb('offer_chat_label', { time: c.claimed_at ? localDateTime(c.claimed_at) : '', language: languageLabel(c.language) }),
      })));
    } catch (error) {
      showError(this.error, describe(error));
      return;
    }
    this.none.hidden = this.conversations.length > 0;
    this.body.hidden = this.conversations.length === 0;
    if (this.conversations.length) await this.loadSlots();
  }

  async loadSlots() {
    const option = this.conversation.selectedOptions[0];
    if (!option) return;
    const from = new Date();
    const to = new Date(from.getTime() + 14 * DAY_MS);
    const query = new URLSearchParams({ kind: this.kind.value, language: option.dataset.language, from: from.toISOString(), to: to.toISOString() });
    try {
      const { slots } = await request('GET', `/api/slots?${query}`);
      this.slots.replaceChildren(...slots.slice(0, 40).map((slot) => el('label', { class: 'offer__slot' },
        el('input', { type: 'checkbox', value: slot.start, 'data-testid': 'offer-slot' }), ` ${localDateTime(slot.start)}`)));
    } catch (error) {
      showError(this.error, describe(error));
    }
  }

  async submit(event) {
    event.preventDefault();
    const starts = [...this.slots.querySelectorAll('input:checked')].map((input) => input.value);
    if (starts.length === 0 || starts.length > MAX_OFFER) {
      showError(this.error, tb('offer_choose', { count: MAX_OFFER }));
      return;
    }
    try {
      await request('POST', `/api/staff/conversations/${encodeURIComponent(this.conversation.value)}/slot-offer`, { kind: this.kind.value, starts });
      showError(this.error, '');
      this.status.textContent = tb('offer_sent');
      this.slots.querySelectorAll('input:checked').forEach((input) => { input.checked = false; });
    } catch (error) {
      showError(this.error, describe(error));
    }
  }
}

// ---- the outbox (administrators, when no SMS provider is connected) ----

class OutboxPanel {
  constructor() {
    this.heading = el('h3');
    this.intro = el('p', { class: 'appointments__hint' });
    this.list = el('ol', { class: 'outbox__list', 'data-testid': 'outbox-list' });
    this.empty = el('p', { class: 'appointments__empty', hidden: true });
    this.refresh = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.load(this.user) });
    this.element = el('section', { class: 'side-card outbox', 'data-testid': 'outbox', hidden: true },
      this.heading, this.intro, this.refresh, this.list, this.empty);
  }

  retranslate() {
    this.heading.textContent = tb('outbox_heading');
    this.intro.textContent = tb('outbox_intro');
    this.empty.textContent = tb('outbox_empty');
    this.refresh.textContent = tb('refresh');
  }

  async load(user) {
    this.user = user;
    if (user?.role !== 'admin') return;
    try {
      const { texts } = await request('GET', '/api/staff/sms-outbox?limit=50');
      this.list.replaceChildren(...texts.map((text) => el('li', { class: 'outbox__item' },
        el('p', { class: 'outbox__meta', text: `${localDateTime(text.created_at)} · ${tb('outbox_to', { to: text.to })}` }),
        el('p', { class: 'outbox__body', dir: 'auto', text: text.body }))));
      this.empty.hidden = texts.length > 0;
    } catch (error) {
      this.empty.hidden = false;
      this.empty.textContent = describe(error);
    }
  }
}
