// The end-of-chat survey, inside the closed notice: "Did this conversation help you?" yes, partly or no,
// answered once (POST /api/conversations/survey), then a short thank-you. "Skip" sends `skipped`, so the
// contact record tells a declined question from one never seen, and the conversation's link to its record
// ends at once; a relative who just leaves sends nothing. Offered only when the counsellor closed the chat:
// a relative who leaves ends the token, so there is nothing to answer with.

import { t, tOr } from '/shared/i18n.js';
import { el, show, showError } from '/shared/dom.js';
import { errorText } from '/shared/format.js';
import { call } from './api.js';

const ANSWERS = ['yes', 'partly', 'no'];
const SKIPPED = 'skipped';
const THANKS = 'thanks';
/** After these, asking again cannot succeed: the question goes away and the text stays. */
const FINAL_ERRORS = new Set(['survey_answered', 'invalid_token']);

function surveyError(code) {
  return tOr(`widget.survey.errors.${code}`, errorText(code));
}

export class Survey {
  /**
   * Mounts into `container`. `onDone()` runs once the survey is settled (answered, skipped, or refused as
   * already answered), to remember it; `onSkipped()` after a skip, when the question has gone away.
   */
  constructor(container, { onDone, onSkipped }) {
    this.onDone = onDone;
    this.onSkipped = onSkipped;
    this.token = null;
    this.resultCode = null;
    this.answers = ANSWERS.map((answer) => el('button', {
      type: 'button', class: 'button', 'data-testid': `survey-${answer}`, i18n: `widget.survey.${answer}`,
      onclick: () => this.#send(answer),
    }));
    this.skip = el('button', {
      type: 'button', class: 'button button-quiet', 'data-testid': 'survey-skip', i18n: 'widget.survey.skip',
      onclick: () => this.#send(SKIPPED),
    });
    this.ask = el('div', { class: 'survey-ask', role: 'group', 'aria-labelledby': 'survey-question', 'aria-describedby': 'survey-hint' },
      el('p', { id: 'survey-question', class: 'survey-question', i18n: 'widget.survey.question' }),
      el('p', { id: 'survey-hint', class: 'hint', i18n: 'widget.survey.hint' }),
      el('div', { class: 'survey-answers' }, ...this.answers, this.skip));
    this.error = el('p', { class: 'notice notice-error', role: 'alert', 'data-testid': 'survey-error', hidden: true });
    this.result = el('p', { class: 'survey-result', 'data-testid': 'survey-result', tabindex: '-1', hidden: true });
    this.element = el('div', { class: 'survey', 'data-testid': 'survey', hidden: true }, this.ask, this.error, this.result);
    container.replaceChildren(this.element);
  }

  /** Ask, once per conversation token: offering again for the same token keeps what is shown. */
  offer(token) {
    if (!token || token === this.token) return;
    this.reset();
    this.token = token;
    show(this.ask, true);
    show(this.element, true);
  }

  reset() {
    this.token = null;
    show(this.element, false);
    showError(this.error, '');
    this.#showResult(null);
    this.#setBusy(false);
  }

  /** The page's language changed: the data-i18n texts are done by the page; redo the result's. */
  retranslate() {
    this.#showResult(this.resultCode);
  }

  async #send(answer) {
    showError(this.error, '');
    this.#setBusy(true);
    const result = await call('POST', '/api/conversations/survey', { token: this.token, answer });
    this.#setBusy(false);
    if (result.ok) {
      this.onDone();
      if (answer === SKIPPED) {
        show(this.element, false);
        this.onSkipped();
      } else {
        this.#finish(THANKS);
      }
    } else if (FINAL_ERRORS.has(result.code)) {
      if (result.code === 'survey_answered') this.onDone();
      this.#finish(result.code);
    } else {
      showError(this.error, surveyError(result.code));
    }
  }

  /** The question goes away; a short text takes its place and the focus (the pressed button is gone). */
  #finish(code) {
    show(this.ask, false);
    this.#showResult(code);
    this.result.focus();
  }

  /** code: THANKS, an error code, or null for nothing. */
  #showResult(code) {
    this.resultCode = code;
    this.result.dataset.result = code ?? '';
    this.result.textContent = code === THANKS ? t('widget.survey.thanks') : code ? surveyError(code) : '';
    show(this.result, Boolean(code));
  }

  #setBusy(busy) {
    for (const button of [...this.answers, this.skip]) button.disabled = busy;
  }
}
