// The counsellor's availability: languages, weekly windows and exceptions (days off, extra hours).
import { el, showError } from '/shared/dom.js';
import { languageLabel } from '/shared/format.js';
import * as api from './api.js';
import { isoDate, WEEKDAY_COUNT } from './state.js';
import { describe, tb, weekdayName } from './words.js';

export class AvailabilityEditor {
  constructor() {
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
      this.data = await api.availability();
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
      this.data = await api.saveAvailability(this.readForm());
      this.fill(this.data);
      showError(this.error, '');
      this.status.textContent = tb('saved');
    } catch (error) {
      showError(this.error, describe(error));
    }
  }
}
