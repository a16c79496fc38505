// Escalations to social services in the console: the supervisor's approval queue, the social services
// inbox with deadlines, one escalation with its actions, and the audit view. The DOM lives here; what the
// view knows is in state.js, the calls in api.js, the words in words.js, and drafting in draft.js.
import { t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { localDateTime } from '/shared/format.js';
import { chime, isAttending } from '../alerts.js';
import { auditTable } from '../audit.js';
import { announce } from '../dom.js';
import { renderMessage } from '../messages.js';
import * as api from './api.js';
import { DraftDialog } from './draft.js';
import { EscalationsState, isOverdue, mayEscalate, outcomesAfter, roleSeesView, seesEscalations } from './state.js';
import { alertText, deadlineText, describeError, stateLabel } from './words.js';

const TICK_MS = 1000;

// ---- the view ----

export class EscalationsView {
  /**
   * root: the escalations section; panels: the conversation panels, where "Escalate" buttons sit;
   * viewSwitch: the top bar's view buttons (chat views are hidden for social services users).
   */
  constructor({ root, panels, viewSwitch }) {
    this.root = root;
    this.viewSwitch = viewSwitch;
    this.state = new EscalationsState();
    this.socket = null;
    this.ticker = null;
    this.reloading = null;
    this.build();
    panels.addEventListener('click', (event) => {
      const button = event.target.closest('[data-escalate]');
      const panel = button?.closest('[data-conversation-id]');
      if (panel) this.dialog.open(panel.dataset.conversationId);
    });
  }

  build() {
    this.heading = el('h2', { id: 'escalations-heading' });
    this.filters = el('div', { class: 'escalations__filters', role: 'group' });
    this.refreshButton = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.reload() });
    this.auditButton = el('button', {
      type: 'button', class: 'button button--quiet', 'data-testid': 'escalation-audit-all', hidden: true,
      onclick: () => this.showAudit(null),
    });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.list = el('ol', { class: 'escalations__list', 'data-testid': 'escalation-list' });
    this.empty = el('p', { class: 'escalations__empty', hidden: true });
    this.detail = el('article', { class: 'escalations__detail', tabindex: '-1', 'data-testid': 'escalation-detail' });
    this.root.replaceChildren(
      el('div', { class: 'escalations__list-column' },
        el('div', { class: 'escalations__head' }, this.heading, this.refreshButton, this.auditButton),
        this.filters, this.error, this.list, this.empty),
      this.detail,
    );
    this.dialog = new DraftDialog(this.state, () => this.reload());
    document.body.append(this.dialog.element);
  }

  async start(user) {
    this.stop();
    this.state.begin(user);
    const role = this.state.role;
    for (const button of this.viewSwitch.querySelectorAll('[data-view]')) {
      button.hidden = !roleSeesView(role, button.dataset.view);
    }
    document.body.classList.toggle('may-escalate', mayEscalate(role));
    this.retranslate();
    if (!seesEscalations(role)) return;
    let config;
    try {
      config = await api.config();
    } catch (error) {
      showError(this.error, describeError(error));
      return;
    }
    if (this.state.user !== user) return;
    this.state.config = config;
    this.connect();
    this.ticker = window.setInterval(() => this.tick(), TICK_MS);
    await this.reload();
  }

  stop() {
    this.state.reset();
    window.clearInterval(this.ticker);
    this.ticker = null;
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
    this.dialog?.close();
    for (const button of this.viewSwitch.querySelectorAll('[data-view]')) button.hidden = false;
    document.body.classList.remove('may-escalate');
    this.list.replaceChildren();
    this.detail.replaceChildren();
  }

  connect() {
    const socket = api.connect();
    this.socket = socket;
    socket.on('ready', () => this.reload());
    // The server closes the socket when the session ends (logout elsewhere, account disabled,
    // timeout): the 401 then shows the sign-in screen; a session that still holds reconnects.
    socket.on('disconnect', async (reason) => {
      if (reason !== 'io server disconnect') return;
      try {
        await api.me();
      } catch {
        return;
      }
      if (this.socket === socket) socket.connect();
    });
    socket.on('changed', (payload) => this.onChanged(payload?.escalation_id));
    socket.on('alert', (payload) => this.onAlert(payload));
  }

  onChanged(id) {
    this.reload();
    if (id && id === this.state.selectedId) this.open(id, { focus: false });
  }

  onAlert(payload) {
    announce(alertText(payload?.reason));
    if (!isAttending()) chime();
    this.reload();
  }

  /** One reload at a time; a change during a reload asks for one more. */
  async reload() {
    if (!this.state.user) return;
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const data = await api.list();
          this.state.items = data.escalations || [];
          showError(this.error, '');
        } catch (error) {
          showError(this.error, describeError(error));
        }
        this.renderList();
      } while (this.reloadAgain && this.state.user);
    })();
    try {
      await this.reloading;
    } finally {
      this.reloading = null;
    }
  }

  // ---- list ----

  renderFilters() {
    const names = this.state.filterNames();
    this.filters.hidden = names.length < 2;
    this.filters.replaceChildren(...names.map((name) => el('button', {
      type: 'button',
      class: 'view-button',
      'aria-pressed': String(name === this.state.filter),
      'data-testid': `escalation-filter-${name}`,
      text: t(`escalation.console.filters.${name}`),
      onclick: () => {
        this.state.filter = name;
        this.renderList();
      },
    })));
  }

  renderList() {
    this.renderFilters();
    const items = this.state.visibleItems();
    this.list.replaceChildren(...items.map((item) => this.renderItem(item)));
    this.empty.hidden = items.length > 0;
  }

  renderItem(item) {
    const overdue = isOverdue(item);
    const button = el(
      'button',
      {
        type: 'button',
        class: 'escalation-item__button',
        'aria-current': item.escalation_id === this.state.selectedId ? 'true' : null,
        onclick: () => this.open(item.escalation_id),
      },
      el('span', { class: 'escalation-item__kind', text: this.state.kindTitle(item.kind) }),
      el('span', { class: `escalation-state escalation-state--${item.state}`, 'data-testid': 'escalation-state', text: stateLabel(item.state) }),
      el('span', { class: 'escalation-item__route', text: this.state.routeName(item.route) }),
      el('span', { class: 'escalation-item__when', text: localDateTime(item.created_at) }),
      el('span', { class: 'escalation-item__deadline', 'data-deadline': item.deadline || '', text: deadlineText(item) }),
    );
    return el('li', {
      class: `escalation-item${overdue ? ' escalation-item--overdue' : ''}${item.kind === 'imminent_danger' ? ' escalation-item--danger' : ''}`,
      'data-testid': 'escalation-item',
      'data-escalation-id': item.escalation_id,
      'data-state': item.state,
    }, button);
  }

  tick() {
    const now = Date.now();
    for (const element of this.list.querySelectorAll('.escalation-item')) {
      const item = this.state.item(element.dataset.escalationId);
      if (!item) continue;
      element.querySelector('.escalation-item__deadline').textContent = deadlineText(item, now);
      element.classList.toggle('escalation-item--overdue', isOverdue(item, now));
    }
    const countdown = this.detail.querySelector('[data-testid="escalation-deadline"]');
    if (countdown && this.state.detail) countdown.textContent = deadlineText(this.state.detail, now);
  }

  // ---- one escalation ----

  async open(id, { focus = true } = {}) {
    this.state.selectedId = id;
    for (const element of this.list.querySelectorAll('.escalation-item')) {
      const button = element.querySelector('button');
      if (element.dataset.escalationId === id) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    let data;
    try {
      data = await api.detail(id);
    } catch (error) {
      this.detail.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: describeError(error) }));
      return;
    }
    if (this.state.selectedId !== id) return;
    this.renderDetail(data.escalation);
    if (focus) this.detail.focus({ preventScroll: true });
  }

  renderDetail(escalation) {
    this.state.detail = escalation;
    const facts = el('dl', { class: 'escalation-facts' });
    const add = (key, value, testid) => {
      if (value === null || value === undefined || value === '') return;
      facts.append(el('dt', { text: t(`escalation.console.fields.${key}`) }), el('dd', { 'data-testid': testid, dir: 'auto', text: value }));
    };
    add('kind', this.state.kindTitle(escalation.kind), 'escalation-kind');
    add('state', stateLabel(escalation.state), 'escalation-detail-state');
    add('route', this.state.routeName(escalation.route));
    if (escalation.backup_route) add('backup_route', this.state.routeName(escalation.backup_route));
    add('subject.age_band', t('escalation.console.age_band', { band: escalation.subject.age_band }));
    add('subject.relation', escalation.subject.relation);
    add('indicators', escalation.indicators.map((id) => this.state.indicatorLabel(id)).join(', ') || t('escalation.console.none'));
    add('summary', escalation.summary, 'escalation-summary');
    add('consent', t(escalation.consent ? 'escalation.console.yes' : 'escalation.console.no'));
    add('share_transcript', t(escalation.share_transcript ? 'escalation.console.yes' : 'escalation.console.no'));
    for (const [field, value] of Object.entries(escalation.contact || {})) add(`contact.${field}`, value);
    add('created_at', localDateTime(escalation.created_at));
    if (escalation.sent_at) add('sent_at', localDateTime(escalation.sent_at));
    if (escalation.acknowledged_at) add('acknowledged_at', localDateTime(escalation.acknowledged_at));
    add('sent_back_reason', escalation.sent_back_reason);
    add('feedback', escalation.feedback, 'escalation-feedback');

    const deadline = el('p', { class: 'escalation-detail__deadline', 'data-testid': 'escalation-deadline', text: deadlineText(escalation) });
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const extra = el('div', { class: 'escalation-detail__extra' });
    this.detail.replaceChildren(
      el('h3', { class: 'escalation-detail__title', text: this.state.kindTitle(escalation.kind) }),
      deadline,
      el('p', { class: 'escalation-detail__notice', text: t('escalation.console.logged_notice') }),
      facts,
      this.renderActions(escalation, error, extra),
      error,
      extra,
    );
  }

  renderActions(escalation, error, extra) {
    const actions = new Set(escalation.actions || []);
    const box = el('div', { class: 'escalation-actions' });
    const act = async (verb, body, button) => {
      button.disabled = true;
      showError(error, '');
      try {
        const result = await api.act(escalation.escalation_id, verb, body);
        announce(t('escalation.console.now_state', { state: stateLabel(result.state) }));
        await this.reload();
        await this.open(escalation.escalation_id, { focus: false });
      } catch (failure) {
        showError(error, describeError(failure));
        button.disabled = false;
      }
    };
    const button = (key, testid, onclick, extraClass = '') => el('button', {
      type: 'button', class: `button ${extraClass}`.trim(), 'data-testid': testid, text: t(`escalation.console.actions.${key}`),
      onclick: (event) => onclick(event.currentTarget),
    });
    if (actions.has('escalation.approve')) {
      box.append(button('approve', 'escalation-approve', (b) => act('approve', undefined, b), 'button--primary'));
    }
    if (actions.has('escalation.send_back')) {
      const reason = el('textarea', { rows: '2', dir: 'auto', 'data-testid': 'escalation-send-back-reason', maxlength: '1000' });
      box.append(
        el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.reason') }), reason),
        button('send_back', 'escalation-send-back', (b) => act('send-back', { reason: reason.value.trim() || null }, b)),
      );
    }
    if (actions.has('escalation.acknowledge')) {
      box.append(button('acknowledge', 'escalation-acknowledge', (b) => act('acknowledge', undefined, b), 'button--primary'));
    }
    if (actions.has('escalation.outcome')) {
      const select = el('select', { 'data-testid': 'escalation-outcome-select' },
        ...outcomesAfter(escalation.state).map((state) => new Option(stateLabel(state), state)));
      const feedback = el('textarea', { rows: '2', dir: 'auto', 'data-testid': 'escalation-feedback-input', maxlength: '2000' });
      box.append(
        el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.outcome') }), select),
        el('label', { class: 'field' }, el('span', { text: t('escalation.console.fields.feedback') }), feedback),
        button('record_outcome', 'escalation-record-outcome', (b) => act('outcome', { state: select.value, feedback: feedback.value.trim() || null }, b)),
      );
    }
    if (actions.has('escalation.resubmit')) {
      box.append(button('resubmit', 'escalation-resubmit', () => this.dialog.open(escalation.conversation_id, escalation)));
    }
    if (actions.has('escalation.transcript')) {
      box.append(button('transcript', 'escalation-transcript', () => this.showTranscript(escalation.escalation_id, extra), 'button--quiet'));
    }
    if (this.state.role === 'supervisor') {
      box.append(button('audit', 'escalation-audit', () => this.showAudit(escalation.escalation_id, extra), 'button--quiet'));
    }
    return box;
  }

  async showTranscript(id, target) {
    try {
      const data = await api.transcript(id);
      const list = el('ol', { class: 'messages messages--readonly', 'data-testid': 'escalation-transcript-messages' },
        ...(data.messages || []).map(renderMessage));
      target.replaceChildren(
        el('h4', { text: t('escalation.console.transcript.heading') }),
        el('p', { class: 'escalation-detail__notice', text: t('escalation.console.transcript.readonly') }),
        data.messages?.length ? list : el('p', { text: t('escalation.console.transcript.none') }),
      );
    } catch (error) {
      target.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: describeError(error) }));
    }
  }

  async showAudit(id, target = this.detail) {
    try {
      const data = await api.audit(id);
      target.replaceChildren(
        el('h4', { text: t('escalation.console.audit.heading') }),
        el('p', { class: 'escalation-detail__notice', text: t('escalation.console.audit.intro') }),
        auditTable(data.entries || [], { words: 'escalation.console.audit.', object: 'escalation', shorten: true }),
      );
    } catch (error) {
      target.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: describeError(error) }));
    }
  }

  retranslate() {
    this.heading.textContent = t(this.state.role === 'social_services' ? 'escalation.console.inbox_heading' : 'escalation.console.heading');
    this.refreshButton.textContent = t('escalation.console.refresh');
    this.auditButton.textContent = t('escalation.console.actions.audit_all');
    this.auditButton.hidden = this.state.role !== 'supervisor';
    this.empty.textContent = t('escalation.console.empty');
    if (!this.state.user) return;
    this.renderList();
    if (this.state.detail) this.renderDetail(this.state.detail);
    else this.detail.replaceChildren(el('p', { class: 'escalations__placeholder', text: t('escalation.console.choose') }));
    this.dialog.retranslate();
  }
}

