// Appointments in the console: a day and week view with the SMS delivery status of every text, marking
// attended or no-show, cancelling with a text to the relative; beside it the counsellor's availability
// editor (availability.js), offering times inside a chat (offer.js) and, for administrators, the SMS
// outbox (outbox.js). Live: the /counsellor socket pushes `appointments` with every changed appointment,
// so nothing here needs a reload. What the view knows is in state.js, the calls in api.js.
import { el, showError } from '/shared/dom.js';
import { languageLabel, localDateTime } from '/shared/format.js';
import { announce } from '../dom.js';
import * as api from './api.js';
import { AvailabilityEditor } from './availability.js';
import { OfferForm } from './offer.js';
import { OutboxPanel } from './outbox.js';
import { AppointmentsState, DAY_MS } from './state.js';
import { clock, dayTitle, describe, kindName, offsetText, tb } from './words.js';

/** Kinds where the counsellor calls the relative, so the number may be shown (config/default.toml). */
const CALLED_KINDS = ['phone', 'interpreter_call'];

/** The provider's error code (20429, 21610, 30005...) of a text that did not get through. */
function textError(text) {
  if (!text.error_code || ['sent', 'delivered'].includes(text.state)) return null;
  return el('span', { class: 'appointment__text-error', 'data-testid': 'appointment-text-error', translate: 'no', text: ` · ${tb('text_error', { code: text.error_code })}` });
}

export class AppointmentsView {
  constructor({ root }) {
    this.root = root;
    this.state = new AppointmentsState();
    this.socket = null;
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
    this.availability = new AvailabilityEditor();
    this.offer = new OfferForm();
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
    this.state.user = user;
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
    this.state.clear();
    this.list.replaceChildren();
  }

  /** Called on every view switch; loading happens when the view opens. */
  async setVisible(visible) {
    const opening = visible && !this.visible;
    this.visible = visible;
    if (opening && this.state.user) {
      await Promise.all([this.reload(), this.availability.load(), this.offer.load(), this.outbox.load(this.state.user)]);
    }
  }

  retranslate() {
    this.heading.textContent = tb('heading');
    this.modeButtons.forEach((button) => {
      button.textContent = tb(button.dataset.mode);
      button.setAttribute('aria-pressed', String(button.dataset.mode === this.state.mode));
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

  setMode(mode) {
    this.state.setMode(mode);
    this.retranslate();
    this.reload();
  }

  move(step) {
    this.state.move(step);
    this.reload();
  }

  goToday() {
    this.state.goToday();
    this.reload();
  }

  async reload() {
    if (!this.state.user) return;
    const { from, to } = this.state.range();
    try {
      const data = await api.inRange(from, to);
      this.state.replaceAll(data.appointments);
      showError(this.error, '');
    } catch (error) {
      showError(this.error, describe(error));
    }
    this.render();
  }

  onPush(appointments) {
    const booked = this.state.merge(appointments);
    if (this.visible) for (const item of booked) announce(tb('announce_new', { when: localDateTime(item.start) }));
    this.render();
  }

  render() {
    const { from, to } = this.state.range();
    const last = new Date(to.getTime() - DAY_MS / 2);
    this.rangeLabel.textContent = this.state.mode === 'day' ? dayTitle(from) : `${dayTitle(from)} – ${dayTitle(last)}`;
    const byDay = this.state.byDay();
    this.list.replaceChildren(...byDay.map(([, dayItems]) => el('section', { class: 'appointments__day' },
      el('h3', { text: dayTitle(new Date(dayItems[0].start)) }),
      el('ol', { class: 'appointments__items' }, ...dayItems.map((item) => this.renderItem(item))))));
    this.empty.hidden = byDay.length > 0;
  }

  renderItem(item) {
    const started = new Date(item.start) <= new Date();
    const booked = item.state === 'booked';
    const mayAct = this.state.mayAct(item);
    const phone = this.state.revealed.get(item.appointment_id);
    const actions = booked && mayAct ? el('div', { class: 'appointment__actions' },
      CALLED_KINDS.includes(item.kind) && item.has_phone && !phone ? el('button', {
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
      item.interpreter_language ? el('p', {
        class: 'appointment__interpreter', 'data-testid': 'appointment-interpreter', 'data-language': item.interpreter_language,
        text: tb('interpreter', { language: languageLabel(item.interpreter_language) }),
      }) : null,
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
      const { phone } = await api.phone(item.appointment_id);
      this.state.revealed.set(item.appointment_id, phone);
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
      const data = await api.act(item.appointment_id, action, body);
      this.state.update(data.appointment);
      showError(this.error, '');
    } catch (error) {
      showError(this.error, describe(error));
    }
    this.render();
  }
}
