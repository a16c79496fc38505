// The SMS outbox (administrators, when no SMS provider is connected): the texts that would have gone out.
import { el } from '/shared/dom.js';
import { localDateTime } from '/shared/format.js';
import * as api from './api.js';
import { describe, tb } from './words.js';

export class OutboxPanel {
  constructor() {
    this.heading = el('h3', { id: 'outbox-heading' });
    this.intro = el('p', { class: 'appointments__hint' });
    // The list scrolls on its own, so it takes the focus and keyboard users can scroll it too.
    this.list = el('ol', { class: 'outbox__list', 'data-testid': 'outbox-list', tabindex: '0', 'aria-labelledby': 'outbox-heading' });
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
      const { texts } = await api.outbox();
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
