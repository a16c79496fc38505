// The supervisors' live view (docs/supervision.md): every waiting and active conversation with its
// facts and flags, every counsellor with their load, counts and alerts, all pushed by the server as
// `overview` on the /counsellor socket. Actions: read for a reason (audited), join and leave as a
// second counsellor, reassign, and a private note to the counsellor. Rows are kept by id, so focus
// and open dialogs survive the pushes; times tick here against the overview's own clock.
import { t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { formatElapsed, languageLabel } from '/shared/format.js';
import { announce, errorText, labelFor, textDirection } from '../dom.js';
import { senderOf } from '/shared/messages.js';

export const SUPERVISION_ROLES = new Set(['supervisor', 'admin']);

const shortId = (id) => String(id || '').slice(0, 8);

export class SupervisionView {
  /** onAlert(alert) runs once for each alert that appears after the first push. */
  constructor({ root, nav, onAlert }) {
    this.root = root;
    this.nav = nav;
    this.onAlert = onAlert;
    this.ctx = null;
    this.overview = null;
    this.offset = 0;
    this.rows = new Map();
    this.seenAlerts = new Set();
    this.primed = false;
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'supervision-heading', i18n: 'console.supervision.heading' });
    this.intro = el('p', { class: 'supervision__intro', i18n: 'console.supervision.intro' });
    this.counts = {};
    const count = (name) => {
      this.counts[name] = el('dd', { 'data-testid': `supervision-count-${name}`, text: '0' });
      return el('div', { class: 'supervision__count' },
        el('dt', { i18n: `console.supervision.counts.${name}` }), this.counts[name]);
    };
    const counts = el('dl', { class: 'supervision__counts' },
      count('waiting'), count('active'), count('longest_wait'), count('online'));
    this.alertList = el('ul', { class: 'supervision__alerts', 'data-testid': 'supervision-alerts' });
    this.alertsEmpty = el('p', { class: 'supervision__empty', i18n: 'console.supervision.alerts_empty' });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'supervision-error' });
    const column = (key) => el('th', { scope: 'col', i18n: `console.supervision.columns.${key}` });
    this.conversationBody = el('tbody', { 'data-testid': 'supervision-conversations' });
    this.conversationsEmpty = el('p', { class: 'supervision__empty', i18n: 'console.supervision.conversations_empty' });
    const conversations = el('table', { class: 'audit supervision__table' },
      el('caption', { class: 'visually-hidden', i18n: 'console.supervision.conversations_heading' }),
      el('thead', {}, el('tr', {}, ...['conversation', 'state', 'language', 'topic', 'counsellor', 'time',
        'last_message', 'flags', 'actions'].map(column))),
      this.conversationBody);
    this.counsellorBody = el('tbody', { 'data-testid': 'supervision-counsellors' });
    const counsellors = el('table', { class: 'audit supervision__table' },
      el('caption', { class: 'visually-hidden', i18n: 'console.supervision.counsellors_heading' }),
      el('thead', {}, el('tr', {}, ...['name', 'online', 'load', 'languages', 'last_active'].map(column))),
      this.counsellorBody);
    this.dialog = el('dialog', { class: 'confirm-dialog supervision__dialog', 'data-testid': 'supervision-dialog',
      'aria-labelledby': 'supervision-dialog-heading' });
    this.root.replaceChildren(
      this.heading, this.intro, counts, this.error,
      el('section', { class: 'supervision__section', 'aria-labelledby': 'supervision-alerts-heading' },
        el('h3', { id: 'supervision-alerts-heading', i18n: 'console.supervision.alerts_heading' }),
        this.alertList, this.alertsEmpty),
      el('section', { class: 'supervision__section', 'aria-labelledby': 'supervision-conversations-heading' },
        el('h3', { id: 'supervision-conversations-heading', i18n: 'console.supervision.conversations_heading' }),
        el('div', { class: 'supervision__scroll' }, conversations), this.conversationsEmpty),
      el('section', { class: 'supervision__section', 'aria-labelledby': 'supervision-counsellors-heading' },
        el('h3', { id: 'supervision-counsellors-heading', i18n: 'console.supervision.counsellors_heading' }),
        el('div', { class: 'supervision__scroll' }, counsellors)),
      this.dialog);
  }

  /** Shows the nav button to those who may see the view; the server sends `overview` only to them. */
  start(user) {
    this.nav.hidden = !SUPERVISION_ROLES.has(user.role);
  }

  /** The socket session: ask(event, payload) resolves with an ack; settings.read_reasons. */
  attach(ctx) {
    this.ctx = ctx;
  }

  update(overview) {
    if (!overview || !Array.isArray(overview.conversations)) return;
    this.overview = overview;
    this.offset = Date.now() - new Date(overview.at).getTime();
    this.renderCounts();
    this.renderAlerts();
    this.renderConversations();
    this.renderCounsellors();
    this.primed = true;
  }

  /** Called every second: times tick against the server's clock without asking it. */
  tick() {
    if (!this.overview) return;
    this.renderCounts();
    for (const row of this.rows.values()) this.renderTimes(row);
  }

  now() {
    return Date.now() - this.offset;
  }

  renderCounts() {
    const { counts } = this.overview;
    this.counts.waiting.textContent = String(counts.waiting);
    this.counts.active.textContent = String(counts.active);
    const longest = this.overview.conversations
      .filter((c) => c.state === 'waiting')
      .reduce((oldest, c) => (!oldest || c.waiting_since < oldest ? c.waiting_since : oldest), null);
    this.counts.longest_wait.textContent = longest ? formatElapsed(longest, this.now()) : '–';
    this.counts.online.textContent = String(counts.counsellors_online);
  }

  renderAlerts() {
    const alerts = this.overview.alerts || [];
    this.alertList.replaceChildren(...alerts.map((alert) => el('li', {
      class: `supervision__alert supervision__alert--${alert.kind}`,
      'data-testid': 'supervision-alert',
      'data-kind': alert.kind,
      text: this.alertText(alert),
    })));
    this.alertsEmpty.hidden = alerts.length > 0;
    for (const alert of alerts) {
      if (this.seenAlerts.has(alert.key)) continue;
      this.seenAlerts.add(alert.key);
      if (this.primed) this.onAlert(alert);
    }
  }

  alertText(alert) {
    const subject = alert.conversation_id ? shortId(alert.conversation_id) : shortId(alert.escalation_id);
    return t(`console.supervision.alerts.${alert.kind}`, {
      id: subject,
      time: new Date(alert.since).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    });
  }

  renderConversations() {
    const live = this.overview.conversations;
    const ids = new Set(live.map((c) => c.conversation_id));
    for (const [id, row] of this.rows) {
      if (!ids.has(id)) {
        row.element.remove();
        this.rows.delete(id);
      }
    }
    let cursor = this.conversationBody.firstElementChild;
    for (const c of live) {
      const row = this.rows.get(c.conversation_id) || this.createRow(c.conversation_id);
      row.c = c;
      this.fillRow(row);
      if (row.element === cursor) cursor = cursor.nextElementSibling;
      else this.conversationBody.insertBefore(row.element, cursor);
    }
    this.conversationsEmpty.hidden = live.length > 0;
  }

  createRow(id) {
    const cells = {
      id: el('td', { class: 'audit__id', text: shortId(id) }),
      state: el('td', { 'data-testid': 'supervision-state' }),
      language: el('td'),
      topic: el('td'),
      counsellor: el('td', { 'data-testid': 'supervision-counsellor' }),
      time: el('td', {}, el('time')),
      last: el('td', {}, el('time')),
      flags: el('td', { 'data-testid': 'supervision-flags' }),
      actions: el('td', { class: 'supervision__actions' }),
    };
    const button = (action, handler) => el('button', {
      type: 'button', class: 'button button--quiet', 'data-testid': `supervision-${action}`,
      i18n: `console.supervision.actions.${action}`, onclick: () => handler(row),
    });
    const row = {
      id,
      cells,
      buttons: {
        read: button('read', (r) => this.openRead(r)),
        join: button('join', (r) => this.join(r)),
        leave: button('leave', (r) => this.leave(r)),
        reassign: button('reassign', (r) => this.openReassign(r)),
        note: button('note', (r) => this.openNote(r)),
      },
      element: el('tr', { 'data-testid': 'supervision-conversation', 'data-conversation-id': id }),
    };
    cells.actions.append(...Object.values(row.buttons));
    row.element.append(...Object.values(cells));
    this.rows.set(id, row);
    this.translateRow(row);
    return row;
  }

  translateRow(row) {
    for (const [action, button] of Object.entries(row.buttons)) {
      button.textContent = t(`console.supervision.actions.${action}`);
      button.setAttribute('aria-label', `${t(`console.supervision.actions.${action}`)} ${shortId(row.id)}`);
    }
  }

  fillRow(row) {
    const { c, cells, buttons } = row;
    cells.state.textContent = t(`console.supervision.states.${c.state}`);
    cells.state.dataset.state = c.state;
    cells.language.textContent = languageLabel(c.language);
    cells.topic.textContent = labelFor('topics', c.topic);
    const names = [c.counsellor?.display_name, c.colleague?.display_name].filter(Boolean);
    cells.counsellor.textContent = names.length ? names.join(' + ') : '–';
    const flags = [];
    if (c.flags.danger) flags.push(['danger', c.priority_reason ? labelFor('console.priority', c.priority_reason) : null]);
    if (c.flags.escalation_draft) flags.push(['escalation_draft', null]);
    if (c.flags.away) flags.push(['away', null]);
    cells.flags.replaceChildren(...flags.map(([flag, detail]) => el('span', {
      class: `badge supervision__flag supervision__flag--${flag}`, 'data-flag': flag,
      text: detail ? `${t(`console.supervision.flags.${flag}`)}: ${detail}` : t(`console.supervision.flags.${flag}`),
    })));
    const active = c.state === 'active';
    const me = this.ctx?.user?.id;
    const holder = c.counsellor?.id === me;
    const joined = c.colleague?.id === me;
    buttons.join.hidden = !active || holder || joined || Boolean(c.colleague);
    buttons.leave.hidden = !joined;
    buttons.reassign.hidden = !active;
    buttons.note.hidden = !active || holder;
    this.renderTimes(row);
  }

  renderTimes(row) {
    const { c, cells } = row;
    const since = c.state === 'active' ? c.claimed_at : c.waiting_since;
    const [time] = cells.time.children;
    time.dateTime = since || '';
    time.textContent = since ? formatElapsed(since, this.now()) : '–';
    const [last] = cells.last.children;
    last.dateTime = c.last_message_at || '';
    last.textContent = c.last_message_at ? formatElapsed(c.last_message_at, this.now()) : '–';
  }

  renderCounsellors() {
    this.counsellorBody.replaceChildren(...this.overview.counsellors.map((s) => el('tr', {
      'data-testid': 'supervision-counsellor-row', 'data-user-id': s.id,
    },
    el('td', { text: s.display_name }),
    el('td', { 'data-testid': 'supervision-online', text: t(`console.supervision.online.${s.online ? 'yes' : 'no'}`) }),
    el('td', { 'data-testid': 'supervision-load', text: t('console.supervision.load', { load: s.load, capacity: s.capacity }) }),
    el('td', { text: s.languages.map((code) => languageLabel(code)).join(', ') || '–' }),
    el('td', {}, s.last_active_at
      ? el('time', { datetime: s.last_active_at, text: new Date(s.last_active_at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) })
      : '–'))));
  }

  // ---- actions ----

  async request(event, payload) {
    showError(this.error, '');
    if (!this.ctx) return { ok: false, error: { code: 'offline' } };
    const ack = await this.ctx.ask(event, payload);
    if (!ack.ok) showError(this.error, errorText(ack.error?.code));
    return ack;
  }

  async join(row) {
    const ack = await this.request('join_conversation', { conversation_id: row.id });
    if (ack.ok) announce(t('console.supervision.joined', { id: shortId(row.id) }));
  }

  async leave(row) {
    const ack = await this.request('leave_conversation', { conversation_id: row.id });
    if (ack.ok) announce(t('console.supervision.left', { id: shortId(row.id) }));
  }

  /** A form in the shared dialog: fields, a submit label, and what submitting does. */
  openDialog(row, kind, fields, onSubmit) {
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const result = el('div', { class: 'supervision__result', 'data-testid': 'supervision-result' });
    const form = el('form', { method: 'dialog', novalidate: true }, ...fields,
      error,
      el('div', { class: 'confirm-dialog__actions' },
        el('button', { type: 'button', class: 'button button--quiet', 'data-testid': 'supervision-dialog-close',
          text: t('console.supervision.close'), onclick: () => this.dialog.close() }),
        el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'supervision-dialog-submit',
          text: t(`console.supervision.${kind}.submit`) })));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showError(error, '');
      const ack = await onSubmit(form, result);
      if (!ack.ok) showError(error, errorText(ack.error?.code));
    });
    this.dialog.replaceChildren(
      el('h2', { id: 'supervision-dialog-heading', text: t(`console.supervision.${kind}.heading`, { id: shortId(row.id) }) }),
      form, result);
    this.dialog.showModal();
  }

  openRead(row) {
    const reasons = this.ctx?.settings?.read_reasons || [];
    const select = el('select', { name: 'reason', required: true, 'data-testid': 'supervision-reason' },
      ...reasons.map((id) => new Option(labelFor('console.supervision.reasons', id), id)));
    this.openDialog(row, 'read', [
      el('p', { class: 'supervision__notice', text: t('console.supervision.read.notice') }),
      el('label', { class: 'field' }, el('span', { text: t('console.supervision.read.reason') }), select),
    ], async (_form, result) => {
      const ack = await this.ctx.ask('supervise_read', { conversation_id: row.id, reason: select.value });
      if (ack.ok) result.replaceChildren(this.transcript(ack));
      return ack;
    });
  }

  transcript(ack) {
    const direction = textDirection(ack.conversation.language);
    return el('ol', { class: 'supervision__transcript', 'data-testid': 'supervision-transcript' },
      ...ack.messages.map((m) => el('li', { class: `supervision__message supervision__message--${senderOf(m)}` },
        el('span', { class: 'supervision__sender', text: t(`console.supervision.senders.${senderOf(m)}`) }),
        el('p', { dir: direction === 'rtl' ? 'rtl' : 'auto', text: m.text }))));
  }

  openReassign(row) {
    const others = (this.overview?.counsellors || []).filter((s) => s.id !== row.c.counsellor?.id);
    const select = el('select', { name: 'to', required: true, 'data-testid': 'supervision-reassign-to' },
      ...others.map((s) => new Option(
        `${s.display_name} (${t('console.supervision.load', { load: s.load, capacity: s.capacity })})`, String(s.id))));
    this.openDialog(row, 'reassign', [
      el('label', { class: 'field' }, el('span', { text: t('console.supervision.reassign.to') }), select),
    ], async () => {
      const ack = await this.ctx.ask('reassign', { conversation_id: row.id, to_user_id: Number(select.value) });
      if (ack.ok) {
        this.dialog.close();
        announce(t('console.supervision.reassigned', { id: shortId(row.id) }));
      }
      return ack;
    });
  }

  openNote(row) {
    const text = el('textarea', { name: 'text', rows: 4, required: true, 'data-testid': 'supervision-note-text',
      maxlength: this.ctx?.settings?.max_text_length || 4000 });
    this.openDialog(row, 'note', [
      el('p', { class: 'supervision__notice', text: t('console.supervision.note.notice') }),
      el('label', { class: 'field' }, el('span', { text: t('console.supervision.note.label') }), text),
    ], async () => {
      const ack = await this.ctx.ask('add_note', { conversation_id: row.id, text: text.value });
      if (ack.ok) {
        this.dialog.close();
        announce(t('console.supervision.note.sent'));
      }
      return ack;
    });
  }

  setVisible(visible) {
    if (visible && this.overview) this.tick();
  }

  retranslate() {
    for (const row of this.rows.values()) {
      this.translateRow(row);
      this.fillRow(row);
    }
    if (this.overview) {
      this.renderAlerts();
      this.renderCounsellors();
    }
  }

  clear() {
    if (this.dialog.open) this.dialog.close();
    this.ctx = null;
    this.overview = null;
    this.rows.clear();
    this.seenAlerts.clear();
    this.primed = false;
    this.conversationBody.replaceChildren();
    this.counsellorBody.replaceChildren();
    this.alertList.replaceChildren();
    showError(this.error, '');
  }
}
