// Offering times inside a chat: pick one of the held conversations, a kind and up to MAX_OFFER free times.
import { el, showError } from '/shared/dom.js';
import { languageLabel, localDateTime } from '/shared/format.js';
import * as api from './api.js';
import { DAY_MS } from './state.js';
import { describe, kindName, tb } from './words.js';

const MAX_OFFER = 6;

export class OfferForm {
  constructor() {
    this.heading = el('h3');
    this.conversation = el('select', { 'data-testid': 'offer-conversation', onchange: () => this.loadSlots() });
    this.kind = el('select', { 'data-testid': 'offer-kind', onchange: () => this.loadSlots() });
    this.conversationLabel = el('span');
    this.kindLabel = el('span');
    this.chooseLabel = el('legend');
    this.slots = el('ul', { class: 'offer__slots', 'data-testid': 'offer-slots' });
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
        api.bookingOptions(),
        api.heldConversations(),
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
    const query = { kind: this.kind.value, language: option.dataset.language, from: from.toISOString(), to: to.toISOString() };
    try {
      const { slots } = await api.slots(query);
      this.slots.replaceChildren(...slots.slice(0, 40).map((slot) => el('li', {}, el('label', { class: 'offer__slot' },
        el('input', { type: 'checkbox', value: slot.start, 'data-testid': 'offer-slot' }),
        el('span', { text: localDateTime(slot.start) })))));
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
      await api.offerSlots(this.conversation.value, { kind: this.kind.value, starts });
      showError(this.error, '');
      this.status.textContent = tb('offer_sent');
      this.slots.querySelectorAll('input:checked').forEach((input) => { input.checked = false; });
    } catch (error) {
      showError(this.error, describe(error));
    }
  }
}
