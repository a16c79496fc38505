// The relative's view of an escalation to social services: with the resume code they see whether
// it was sent, received or closed, and nothing else. The code is never stored; the field is
// emptied after each look-up, and quick exit clears the page as always.
import { t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { errorText } from '/shared/format.js';
import { call } from './api.js';

const STATUSES = new Set(['sent', 'received', 'closed']);

async function lookUp(resumeCode) {
  const answer = await call('POST', '/api/escalations/status', { resume_code: resumeCode });
  if (answer.ok) return { ok: true, statuses: (answer.data?.escalations || []).map((item) => item.status) };
  return { ok: false, code: answer.status === 404 ? 'resume_not_found' : answer.code };
}

export class EscalationStatus {
  /** Adds the status card at the end of ``container`` (the start view). */
  constructor(container) {
    this.statuses = null;
    this.errorCode = null;
    this.input = el('input', {
      id: 'escalation-code', name: 'resume_code', type: 'text', autocomplete: 'off', autocapitalize: 'characters',
      spellcheck: 'false', maxlength: '64', 'data-testid': 'escalation-code-input',
    });
    this.error = el('p', { class: 'notice notice-error', role: 'alert', hidden: true });
    this.button = el('button', { type: 'submit', class: 'button', 'data-testid': 'escalation-status-button', 'data-i18n': 'escalation.relative.check' });
    this.result = el('div', { class: 'escalation-status', role: 'status', 'aria-live': 'polite', 'data-testid': 'escalation-status-result' });
    this.form = el(
      'form',
      { class: 'card', id: 'escalation-status-form', 'aria-labelledby': 'escalation-status-heading', novalidate: true },
      el('h2', { id: 'escalation-status-heading', 'data-i18n': 'escalation.relative.heading' }),
      el('p', { 'data-i18n': 'escalation.relative.intro' }),
      el('div', { class: 'field' },
        el('label', { for: 'escalation-code', 'data-i18n': 'escalation.relative.code_label' }),
        this.input),
      this.error,
      this.button,
      this.result,
    );
    this.form.addEventListener('submit', (event) => this.submit(event));
    container.append(this.form);
  }

  async submit(event) {
    event.preventDefault();
    const code = this.input.value.trim();
    if (!code) {
      this.showError('resume_code_missing');
      this.input.focus();
      return;
    }
    this.showError(null);
    this.button.disabled = true;
    const answer = await lookUp(code);
    this.button.disabled = false;
    if (!answer.ok) {
      this.statuses = null;
      this.render();
      this.showError(answer.code);
      return;
    }
    this.input.value = '';
    this.statuses = answer.statuses.filter((status) => STATUSES.has(status));
    this.render();
  }

  showError(code) {
    this.errorCode = code;
    showError(this.error, code ? errorText(code) : '');
  }

  render() {
    if (this.statuses === null) {
      this.result.replaceChildren();
      return;
    }
    if (this.statuses.length === 0) {
      this.result.replaceChildren(el('p', { 'data-testid': 'escalation-status-none' }, t('escalation.relative.none')));
      return;
    }
    this.result.replaceChildren(
      el('h3', {}, t('escalation.relative.result_heading')),
      el('ul', { class: 'checklist' },
        ...this.statuses.map((status) => el('li', { 'data-testid': 'escalation-status', 'data-status': status },
          t(`escalation.relative.status.${status}`)))),
    );
  }

  retranslate() {
    this.render();
    this.showError(this.errorCode);
  }
}
