// Audit logs in the console: the table shared with the escalation view (when, who, what, which
// object; never content), and the chat audit view for supervisors and admins, with a filter by
// conversation id. Every reading of the chat audit log is itself audited on the server.
import { t } from '/shared/i18n.js';
import { staffRequest } from './api.js';
import { el, showError } from '/shared/dom.js';
import { localDateTime } from '/shared/format.js';
import { errorText, labelFor } from './dom.js';

export const AUDIT_ROLES = new Set(['supervisor', 'admin']);
const ALL_OBJECTS = '*';

/**
 * A table of audit entries, or a "no entries" line. `words` is a catalog key prefix ending in a dot;
 * under it: when, who, action, <object>, system, all, empty and actions.<action>. The object's id
 * is `entry[`${object}_id`]`. With `onObject`, each id is a button that calls it with the id.
 */
export function auditTable(entries, { words, object, shorten = false, onObject = null, testid = 'audit' }) {
  if (!entries.length) return el('p', { class: 'audit__empty', text: t(`${words}empty`) });
  const idCell = (id) => {
    if (id === ALL_OBJECTS) return el('td', { text: t(`${words}all`) });
    const text = shorten ? id.slice(0, 8) : id;
    const content = onObject
      ? el('button', { type: 'button', class: 'audit__filter-button', onclick: () => onObject(id), text })
      : text;
    return el('td', { class: 'audit__id' }, content);
  };
  const rows = entries.map((entry) => el('tr', { 'data-testid': `${testid}-row` },
    el('td', { text: localDateTime(entry.at) }),
    el('td', { text: entry.actor || t(`${words}system`) }),
    el('td', { text: entry.detail
      ? t('console.audit.with_reason', { action: labelFor(`${words}actions`, entry.action), reason: labelFor('console.supervision.reasons', entry.detail) })
      : labelFor(`${words}actions`, entry.action) }),
    idCell(entry[`${object}_id`])));
  const head = el('tr', {}, ...['when', 'who', 'action', object].map((key) => el('th', { scope: 'col', text: t(`${words}${key}`) })));
  return el('table', { class: 'audit', 'data-testid': `${testid}-table` }, el('thead', {}, head), el('tbody', {}, ...rows));
}

/** The chat audit log: the newest entries, or one conversation's. */
export class AuditView {
  constructor({ root, nav }) {
    this.root = root;
    this.nav = nav;
    this.entries = null;
    this.conversationId = '';
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'audit-heading' });
    this.intro = el('p', { class: 'audit-view__intro' });
    this.filterLabel = el('span');
    this.filterInput = el('input', {
      name: 'conversation_id', 'data-testid': 'chat-audit-filter', autocomplete: 'off', spellcheck: 'false', maxlength: '64',
    });
    this.filterButton = el('button', { type: 'submit', class: 'button', 'data-testid': 'chat-audit-apply' });
    this.clearButton = el('button', {
      type: 'button', class: 'button button--quiet', 'data-testid': 'chat-audit-clear', onclick: () => this.filterBy(''),
    });
    this.refreshButton = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.load() });
    this.form = el('form', { class: 'audit-view__filter', role: 'search', novalidate: true },
      el('label', { class: 'field' }, this.filterLabel, this.filterInput), this.filterButton, this.clearButton, this.refreshButton);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.filterBy(this.filterInput.value.trim());
    });
    this.scope = el('p', { class: 'audit-view__scope', 'data-testid': 'chat-audit-scope', role: 'status' });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.body = el('div', { class: 'audit-view__body' });
    this.root.replaceChildren(this.heading, this.intro, this.form, this.scope, this.error, this.body);
  }

  /** Shows the view's nav button to supervisors and admins only. */
  start(user) {
    this.nav.hidden = !AUDIT_ROLES.has(user.role);
    this.retranslate();
  }

  filterBy(conversationId) {
    this.conversationId = conversationId;
    this.filterInput.value = conversationId;
    this.load();
  }

  async load() {
    showError(this.error, '');
    const query = new URLSearchParams({ object_type: 'conversation', limit: '200' });
    if (this.conversationId) query.set('object_id', this.conversationId);
    try {
      const data = await staffRequest('GET', `/api/staff/audit?${query}`);
      this.entries = data.entries || [];
    } catch (error) {
      this.entries = null;
      this.body.replaceChildren();
      showError(this.error, errorText(error.code));
      return;
    }
    this.render();
  }

  render() {
    this.scope.textContent = this.conversationId
      ? t('console.audit.scope_one', { id: this.conversationId })
      : t('console.audit.scope_all');
    this.clearButton.hidden = !this.conversationId;
    if (!this.entries) return;
    this.body.replaceChildren(auditTable(this.entries, {
      words: 'console.audit.', object: 'conversation', onObject: (id) => this.filterBy(id), testid: 'chat-audit',
    }));
  }

  retranslate() {
    this.heading.textContent = t('console.audit.heading');
    this.intro.textContent = t('console.audit.intro');
    this.filterLabel.textContent = t('console.audit.filter_label');
    this.filterButton.textContent = t('console.audit.filter_apply');
    this.clearButton.textContent = t('console.audit.filter_clear');
    this.refreshButton.textContent = t('console.audit.refresh');
    this.render();
  }

  clear() {
    this.entries = null;
    this.conversationId = '';
    this.filterInput.value = '';
    this.body.replaceChildren();
    showError(this.error, '');
  }
}
