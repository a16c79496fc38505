// Drafting an escalation from a conversation, or resubmitting one that was sent back: the dialog.
import { t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { announce } from '../dom.js';
import * as api from './api.js';
import { CONTACT_FIELDS } from './state.js';
import { describeError } from './words.js';

export class DraftDialog {
  /** state: the view's EscalationsState (configuration and words for kinds); onSent: reloads the list. */
  constructor(state, onSent) {
    this.state = state;
    this.onSent = onSent;
    this.conversationId = null;
    this.resubmitting = null;
    this.element = el('dialog', { class: 'escalation-dialog', 'data-testid': 'escalation-dialog', 'aria-labelledby': 'escalation-dialog-heading' });
    this.element.addEventListener('close', () => {
      this.conversationId = null;
      this.resubmitting = null;
    });
  }

  get config() {
    return this.state.config;
  }

  open(conversationId, existing = null) {
    if (!this.config) return;
    this.conversationId = conversationId;
    this.resubmitting = existing;
    this.render(existing);
    this.element.showModal();
  }

  close() {
    if (this.element.open) this.element.close();
  }

  retranslate() {
    if (this.element.open) this.render(this.readForm());
  }

  render(values) {
    const kinds = this.config.kinds;
    const kindSelect = el('select', { name: 'kind', 'data-testid': 'escalation-kind', required: true },
      ...kinds.map((kind) => new Option(this.state.kindTitle(kind.id), kind.id)));
    kindSelect.value = values?.kind || 'child_concern';
    const routeSelect = el('select', { name: 'route', 'data-testid': 'escalation-route' });
    const ageSelect = el('select', { name: 'age_band', 'data-testid': 'escalation-age-band' });
    const relation = el('input', { name: 'relation', 'data-testid': 'escalation-relation', maxlength: '200', dir: 'auto', autocomplete: 'off' });
    relation.value = values?.subject?.relation || '';
    const summary = el('textarea', { name: 'summary', 'data-testid': 'escalation-summary-input', rows: '4', maxlength: '4000', dir: 'auto' });
    summary.value = values?.summary || '';
    const chosen = new Set(values?.indicators || []);
    const indicators = el('fieldset', { class: 'escalation-indicators' },
      el('legend', { text: t('escalation.console.fields.indicators') }),
      el('p', { class: 'escalation-dialog__hint', text: t('escalation.console.draft.indicators_hint') }),
      ...this.config.indicators.map((indicator) => el('label', { class: 'check' },
        el('input', { type: 'checkbox', name: 'indicator', value: indicator.id, checked: chosen.has(indicator.id), 'data-testid': `indicator-${indicator.id}` }),
        el('span', { text: this.state.indicatorLabel(indicator.id) }))));
    const consent = el('input', { type: 'checkbox', name: 'consent', 'data-testid': 'escalation-consent', checked: Boolean(values?.consent) });
    const share = el('input', { type: 'checkbox', name: 'share_transcript', 'data-testid': 'escalation-share-transcript', checked: Boolean(values?.share_transcript) });
    const contactInputs = Object.fromEntries(CONTACT_FIELDS.map((field) => {
      const input = el('input', { name: `contact_${field}`, 'data-testid': `escalation-contact-${field}`, maxlength: '200', autocomplete: 'off', dir: 'auto' });
      input.value = values?.contact?.[field] || '';
      return [field, input];
    }));
    const contact = el('fieldset', { class: 'escalation-contact' },
      el('legend', { text: t('escalation.console.fields.contact_details') }),
      el('p', { class: 'escalation-dialog__hint', text: t('escalation.console.draft.contact_hint') }),
      ...CONTACT_FIELDS.map((field) => el('label', { class: 'field' }, el('span', { text: t(`escalation.console.fields.contact.${field}`) }), contactInputs[field])));
    const guidance = el('div', { class: 'escalation-guidance', 'data-testid': 'escalation-guidance' });
    const emergency = el('section', { class: 'escalation-emergency', role: 'alert', 'data-testid': 'escalation-emergency', hidden: true });
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'escalation-draft-error' });
    const submit = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'escalation-submit' });
    const cancel = el('button', { type: 'button', class: 'button button--quiet', text: t('common.cancel'), onclick: () => this.close() });

    const update = () => {
      const kind = this.state.kindConfig(kindSelect.value);
      const text = this.state.kindText(kindSelect.value);
      const routes = this.config.routes.filter((route) => route.kinds.includes(kindSelect.value));
      const currentRoute = routeSelect.value || values?.route;
      routeSelect.replaceChildren(...routes.map((route) => new Option(route.name, route.id)));
      if (routes.some((route) => route.id === currentRoute)) routeSelect.value = currentRoute;
      const currentBand = ageSelect.value || values?.subject?.age_band;
      ageSelect.replaceChildren(...kind.age_bands.map((band) => new Option(t('escalation.console.age_band', { band }), band)));
      if (kind.age_bands.includes(currentBand)) ageSelect.value = currentBand;
      guidance.replaceChildren(
        el('p', { text: text.guidance || '' }),
        el('p', { class: 'escalation-guidance__law', text: text.law || '' }),
        el('p', { class: 'escalation-guidance__flow', text: t(kind.requires_approval ? 'escalation.console.draft.needs_approval' : 'escalation.console.draft.no_approval') }),
      );
      emergency.hidden = kindSelect.value !== 'imminent_danger';
      emergency.replaceChildren(
        el('h3', { text: t('escalation.console.draft.emergency_heading') }),
        el('ol', {}, ...(text.emergency_steps || []).map((step) => el('li', { text: step }))),
      );
      const contactNeeded = kind.required.includes('contact');
      contact.hidden = !(consent.checked || contactNeeded);
      share.disabled = !consent.checked;
      if (!consent.checked) share.checked = false;
      submit.textContent = t(this.resubmitting ? 'escalation.console.draft.resubmit' : kind.requires_approval
        ? 'escalation.console.draft.submit_for_approval' : 'escalation.console.draft.submit_now');
    };
    kindSelect.addEventListener('change', update);
    consent.addEventListener('change', update);

    const form = el('form', { method: 'dialog', class: 'escalation-dialog__form', novalidate: true },
      el('h2', { id: 'escalation-dialog-heading', text: t(this.resubmitting ? 'escalation.console.draft.resubmit_heading' : 'escalation.console.draft.heading') }),
      el('p', { class: 'escalation-dialog__hint', text: t('escalation.console.draft.intro') }),
      el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.kind') }), kindSelect),
      emergency,
      guidance,
      el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.route') }), routeSelect),
      el('div', { class: 'escalation-dialog__row' },
        el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.subject.age_band') }), ageSelect),
        el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.subject.relation') }), relation)),
      indicators,
      el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.summary') }), summary),
      el('label', { class: 'check' }, consent, el('span', { text: t('escalation.console.draft.consent') })),
      el('label', { class: 'check' }, share, el('span', { text: t('escalation.console.draft.share_transcript') })),
      contact,
      error,
      el('div', { class: 'escalation-dialog__actions' }, cancel, submit),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit(form, submit, error);
    });
    this.element.replaceChildren(form);
    this.form = form;
    update();
  }

  readForm() {
    if (!this.form) return null;
    const form = this.form;
    const value = (name) => form.elements[name]?.value ?? '';
    const contact = Object.fromEntries(CONTACT_FIELDS.map((field) => [field, value(`contact_${field}`).trim()]).filter(([, v]) => v));
    const consent = form.elements.consent.checked;
    return {
      kind: value('kind'),
      route: value('route'),
      summary: value('summary'),
      indicators: [...form.querySelectorAll('input[name="indicator"]:checked')].map((input) => input.value),
      consent,
      share_transcript: consent && form.elements.share_transcript.checked,
      subject: { age_band: value('age_band'), relation: value('relation') },
      contact: consent && Object.keys(contact).length ? contact : null,
    };
  }

  async submit(form, button, error) {
    const body = this.readForm();
    showError(error, '');
    button.disabled = true;
    try {
      const result = this.resubmitting
        ? await api.resubmit(this.resubmitting.escalation_id, body)
        : await api.draft(this.conversationId, body);
      announce(t(result.state === 'sent' ? 'escalation.console.draft.sent_now' : 'escalation.console.draft.sent_for_approval'));
      this.close();
      await this.onSent();
    } catch (failure) {
      showError(error, describeError(failure));
    } finally {
      button.disabled = false;
    }
  }
}
