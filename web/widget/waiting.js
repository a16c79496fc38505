// The waiting screen's language notice: whether a counsellor who speaks the relative's language is online
// now (pushed in `status.language_online`), the choice to wait for one or take the next counsellor in
// Swedish or English (`choose_language`), and, while nobody with the language is online, a phone time
// with an interpreter. Shown only while waiting, and only in a language other than Swedish or English.

import { t } from '/shared/i18n.js';
import { el, show, showError } from '/shared/dom.js';
import { errorText } from '/shared/format.js';
import { openBooking } from './booking.js';

const SHARED_LANGUAGES = new Set(['sv', 'en']);
const INTERPRETER_KIND = 'interpreter_call';

function openInterpreterBooking(language) {
  return openBooking({ kind: INTERPRETER_KIND, language });
}

export class WaitingLanguage {
  /** Mounts into `container`; `choose(choice)` sends the choice and resolves to the ack. */
  constructor(container, { choose }) {
    this.choose = choose;
    this.status = null;
    this.language = null;
    this.notice = el('p', { class: 'waiting-language-notice', 'data-testid': 'language-notice' });
    this.legend = el('legend');
    this.options = ['wait', 'any'].map((choice) => {
      const input = el('input', { type: 'radio', name: 'language-choice', value: choice, id: `language-choice-${choice}`, 'data-testid': `language-choice-${choice}` });
      input.addEventListener('change', () => this.#send(choice));
      const label = el('label', { for: input.id });
      return { choice, input, label };
    });
    this.error = el('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    this.interpreterOffer = el('p');
    this.interpreterButton = el('button', {
      type: 'button', class: 'button', 'data-testid': 'book-interpreter',
      onclick: () => openInterpreterBooking(this.language),
    });
    this.interpreter = el('div', { class: 'waiting-language-interpreter', 'data-testid': 'interpreter-offer' },
      this.interpreterOffer, this.interpreterButton);
    this.element = el('section', { class: 'waiting-language', 'data-testid': 'waiting-language' },
      el('div', { role: 'status' }, this.notice),
      el('fieldset', { class: 'waiting-language-choice' }, this.legend,
        ...this.options.map(({ input, label }) => el('div', { class: 'waiting-language-option' }, input, label))),
      this.error,
      this.interpreter);
    show(this.element, false);
    container.replaceChildren(this.element);
  }

  /** The latest `status` of the conversation; `status.language` is the conversation's language. */
  render(status) {
    this.status = status;
    const language = status?.language ?? null;
    this.language = language;
    const visible = status?.state === 'waiting' && typeof status.language_online === 'boolean'
      && !SHARED_LANGUAGES.has(language);
    show(this.element, visible);
    if (!visible) return;
    const online = status.language_online;
    this.element.dataset.online = String(online);
    this.notice.textContent = t(online ? 'widget.waiting_language.online' : 'widget.waiting_language.offline');
    this.legend.textContent = t('widget.waiting_language.legend');
    for (const { choice, input, label } of this.options) {
      label.textContent = t(`widget.waiting_language.${choice}`);
      input.checked = status.language_choice === choice;
    }
    show(this.interpreter, !online);
    this.interpreterOffer.textContent = t('widget.waiting_language.interpreter_offer');
    this.interpreterButton.textContent = t('widget.waiting_language.interpreter_button');
  }

  async #send(choice) {
    showError(this.error, '');
    const ack = await this.choose(choice);
    if (ack?.ok) {
      this.render({ ...this.status, ...ack.status });
    } else {
      showError(this.error, errorText(ack?.error?.code ?? 'unknown'));
      this.render(this.status);
    }
  }
}
