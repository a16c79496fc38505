// Escalations to social services in the console: drafting from a conversation, the supervisor's
// approval queue, the social services inbox with deadlines, one escalation with its actions, and
// the audit view. Live: the /escalations socket says "something changed" (ids only) and this view
// fetches what the signed-in user may see over HTTP, where every read leaves an audit row.
import { io } from '/vendor/socket.io.esm.min.js';
import { language, t } from '/shared/i18n.js';
import { chime, isAttending } from './alerts.js';
import { auditTable } from './audit.js';
import { el, showError } from '/shared/dom.js';
import { localDateTime } from '/shared/format.js';
import { announce, errorText } from './dom.js';
import { renderMessage } from './messages.js';
import { staffRequest as request } from './api.js';

const CHAT_ROLES = new Set(['counsellor', 'supervisor', 'admin']);
const DRAFTING_ROLES = new Set(['counsellor', 'supervisor']);
const ESCALATION_ROLES = new Set(['counsellor', 'supervisor', 'social_services']);
const TICK_MS = 1000;
const OUTCOME_STATES = ['received', 'under_assessment', 'closed_with_feedback'];
const CONTACT_FIELDS = ['name', 'phone', 'email', 'preferred_time'];

// ---- HTTP ----

const path = (id, action = '') => `/api/escalations/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

// ---- words ----

/** A catalog text, or the fallback when the catalog has none (ids added in the routes file later). */
function tOr(key, fallback, params) {
  const text = t(key, params);
  return text === key ? fallback : text;
}

function stateLabel(state) {
  return tOr(`escalation.console.states.${state}`, state);
}

/** An error code in words, with the field the server named for invalid requests. */
function describeError(error) {
  const specific = t(`escalation.console.errors.${error.code}`);
  const base = specific === `escalation.console.errors.${error.code}` ? errorText(error.code) : specific;
  if (error.code === 'invalid_request' && error.message && error.message.includes(':')) {
    const field = error.message.split(':', 1)[0].trim();
    const key = field === 'contact' ? 'contact_details' : field;
    return `${base} (${tOr(`escalation.console.fields.${key}`, field)})`;
  }
  return base;
}

function formatDuration(totalSeconds) {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return t('escalation.console.duration_hm', { h, m });
  if (m > 0) return t('escalation.console.duration_ms', { m, s });
  return t('escalation.console.duration_s', { s });
}

function deadlineText(item, now = Date.now()) {
  if (!item.deadline || item.state !== 'sent') return '';
  const left = (new Date(item.deadline).getTime() - now) / 1000;
  return left > 0
    ? t('escalation.console.deadline_in', { time: formatDuration(left) })
    : t('escalation.console.overdue_by', { time: formatDuration(-left) });
}

// ---- the view ----

export class EscalationsView {
  /**
   * root: the escalations section; panels: the conversation panels, where "Escalate" buttons sit;
   * viewSwitch: the top bar's view buttons (chat views are hidden for social services users).
   */
  constructor({ root, panels, viewSwitch }) {
    this.root = root;
    this.viewSwitch = viewSwitch;
    this.user = null;
    this.config = null;
    this.socket = null;
    this.items = [];
    this.selectedId = null;
    this.detailData = null;
    this.filter = null;
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
    this.dialog = new DraftDialog(this);
    document.body.append(this.dialog.element);
  }

  get role() {
    return this.user?.role;
  }

  async start(user) {
    this.stop();
    this.user = user;
    this.filter = this.role === 'supervisor' ? 'awaiting_approval' : 'all';
    for (const button of this.viewSwitch.querySelectorAll('[data-view]')) {
      button.hidden = button.dataset.view === 'escalations' ? !ESCALATION_ROLES.has(this.role) : !CHAT_ROLES.has(this.role);
    }
    document.body.classList.toggle('may-escalate', DRAFTING_ROLES.has(this.role));
    this.retranslate();
    if (!ESCALATION_ROLES.has(this.role)) return;
    try {
      this.config = await request('GET', '/api/escalations/config');
    } catch (error) {
      showError(this.error, describeError(error));
      return;
    }
    if (this.user !== user) return;
    this.connect();
    this.ticker = window.setInterval(() => this.tick(), TICK_MS);
    await this.reload();
  }

  stop() {
    this.user = null;
    this.config = null;
    this.items = [];
    this.selectedId = null;
    this.detailData = null;
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
    const socket = io('/escalations', { transports: ['websocket'], withCredentials: true });
    this.socket = socket;
    socket.on('ready', () => this.reload());
    // The server closes the socket when the session ends (logout elsewhere, account disabled,
    // timeout): the 401 then shows the sign-in screen; a session that still holds reconnects.
    socket.on('disconnect', async (reason) => {
      if (reason !== 'io server disconnect') return;
      try {
        await request('GET', '/api/me');
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
    if (id && id === this.selectedId) this.open(id, { focus: false });
  }

  onAlert(payload) {
    const text = tOr(`escalation.console.alerts.${payload?.reason}`, t('escalation.console.alerts.generic'));
    announce(text);
    if (!isAttending()) chime();
    this.reload();
  }

  /** One reload at a time; a change during a reload asks for one more. */
  async reload() {
    if (!this.user) return;
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const data = await request('GET', '/api/escalations');
          this.items = data.escalations || [];
          showError(this.error, '');
        } catch (error) {
          showError(this.error, describeError(error));
        }
        this.renderList();
      } while (this.reloadAgain && this.user);
    })();
    try {
      await this.reloading;
    } finally {
      this.reloading = null;
    }
  }

  // ---- list ----

  filterNames() {
    if (this.role === 'supervisor') return ['awaiting_approval', 'open', 'all'];
    if (this.role === 'social_services') return ['open', 'all'];
    return ['all'];
  }

  visibleItems() {
    const open = new Set(['sent', 'acknowledged', 'received', 'under_assessment', 'awaiting_approval', 'sent_back']);
    if (this.filter === 'awaiting_approval') return this.items.filter((item) => item.state === 'awaiting_approval');
    if (this.filter === 'open') return this.items.filter((item) => open.has(item.state) && item.state !== 'awaiting_approval');
    return this.items;
  }

  renderFilters() {
    const names = this.filterNames();
    this.filters.hidden = names.length < 2;
    this.filters.replaceChildren(...names.map((name) => el('button', {
      type: 'button',
      class: 'view-button',
      'aria-pressed': String(name === this.filter),
      'data-testid': `escalation-filter-${name}`,
      text: t(`escalation.console.filters.${name}`),
      onclick: () => {
        this.filter = name;
        this.renderList();
      },
    })));
  }

  renderList() {
    this.renderFilters();
    const items = this.visibleItems();
    this.list.replaceChildren(...items.map((item) => this.renderItem(item)));
    this.empty.hidden = items.length > 0;
  }

  renderItem(item) {
    const overdue = item.state === 'sent' && item.deadline && new Date(item.deadline).getTime() <= Date.now();
    const button = el(
      'button',
      {
        type: 'button',
        class: 'escalation-item__button',
        'aria-current': item.escalation_id === this.selectedId ? 'true' : null,
        onclick: () => this.open(item.escalation_id),
      },
      el('span', { class: 'escalation-item__kind', text: this.kindTitle(item.kind) }),
      el('span', { class: `escalation-state escalation-state--${item.state}`, 'data-testid': 'escalation-state', text: stateLabel(item.state) }),
      el('span', { class: 'escalation-item__route', text: this.routeName(item.route) }),
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
      const item = this.items.find((i) => i.escalation_id === element.dataset.escalationId);
      if (!item) continue;
      element.querySelector('.escalation-item__deadline').textContent = deadlineText(item, now);
      const overdue = item.state === 'sent' && item.deadline && new Date(item.deadline).getTime() <= now;
      element.classList.toggle('escalation-item--overdue', Boolean(overdue));
    }
    const countdown = this.detail.querySelector('[data-testid="escalation-deadline"]');
    if (countdown && this.detailData) countdown.textContent = deadlineText(this.detailData, now);
  }

  // ---- one escalation ----

  async open(id, { focus = true } = {}) {
    this.selectedId = id;
    for (const element of this.list.querySelectorAll('.escalation-item')) {
      const button = element.querySelector('button');
      if (element.dataset.escalationId === id) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    let data;
    try {
      data = await request('GET', path(id));
    } catch (error) {
      this.detail.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: describeError(error) }));
      return;
    }
    if (this.selectedId !== id) return;
    this.renderDetail(data.escalation);
    if (focus) this.detail.focus({ preventScroll: true });
  }

  renderDetail(escalation) {
    this.detailData = escalation;
    const facts = el('dl', { class: 'escalation-facts' });
    const add = (key, value, testid) => {
      if (value === null || value === undefined || value === '') return;
      facts.append(el('dt', { text: t(`escalation.console.fields.${key}`) }), el('dd', { 'data-testid': testid, dir: 'auto', text: value }));
    };
    add('kind', this.kindTitle(escalation.kind), 'escalation-kind');
    add('state', stateLabel(escalation.state), 'escalation-detail-state');
    add('route', this.routeName(escalation.route));
    if (escalation.backup_route) add('backup_route', this.routeName(escalation.backup_route));
    add('subject.age_band', t('escalation.console.age_band', { band: escalation.subject.age_band }));
    add('subject.relation', escalation.subject.relation);
    add('indicators', escalation.indicators.map((id) => this.indicatorLabel(id)).join(', ') || t('escalation.console.none'));
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
      el('h3', { class: 'escalation-detail__title', text: this.kindTitle(escalation.kind) }),
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
        const result = await request('POST', path(escalation.escalation_id, verb), body);
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
      const order = OUTCOME_STATES.indexOf(escalation.state);
      const select = el('select', { 'data-testid': 'escalation-outcome-select' },
        ...OUTCOME_STATES.filter((_state, index) => index > order).map((state) => new Option(stateLabel(state), state)));
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
    if (this.role === 'supervisor') {
      box.append(button('audit', 'escalation-audit', () => this.showAudit(escalation.escalation_id, extra), 'button--quiet'));
    }
    return box;
  }

  async showTranscript(id, target) {
    try {
      const data = await request('GET', path(id, 'transcript'));
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
    const query = id ? `?escalation_id=${encodeURIComponent(id)}` : '';
    try {
      const data = await request('GET', `/api/escalations/audit${query}`);
      target.replaceChildren(
        el('h4', { text: t('escalation.console.audit.heading') }),
        el('p', { class: 'escalation-detail__notice', text: t('escalation.console.audit.intro') }),
        auditTable(data.entries || [], { words: 'escalation.console.audit.', object: 'escalation', shorten: true }),
      );
    } catch (error) {
      target.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: describeError(error) }));
    }
  }

  // ---- config lookups ----

  kindConfig(kind) {
    return this.config?.kinds.find((k) => k.id === kind);
  }

  kindText(kind) {
    const texts = this.kindConfig(kind)?.texts || {};
    return texts[language()] || texts.en || texts.sv || {};
  }

  kindTitle(kind) {
    return this.kindText(kind).title || kind;
  }

  routeName(id) {
    return this.config?.routes.find((r) => r.id === id)?.name || id;
  }

  indicatorLabel(id) {
    const labels = this.config?.indicators.find((i) => i.id === id)?.labels || {};
    return labels[language()] || labels.en || labels.sv || id;
  }

  retranslate() {
    this.heading.textContent = t(this.role === 'social_services' ? 'escalation.console.inbox_heading' : 'escalation.console.heading');
    this.refreshButton.textContent = t('escalation.console.refresh');
    this.auditButton.textContent = t('escalation.console.actions.audit_all');
    this.auditButton.hidden = this.role !== 'supervisor';
    this.empty.textContent = t('escalation.console.empty');
    if (!this.user) return;
    this.renderList();
    if (this.detailData) this.renderDetail(this.detailData);
    else this.detail.replaceChildren(el('p', { class: 'escalations__placeholder', text: t('escalation.console.choose') }));
    this.dialog.retranslate();
  }
}

// ---- drafting ----

class DraftDialog {
  constructor(view) {
    this.view = view;
    this.conversationId = null;
    this.resubmitting = null;
    this.element = el('dialog', { class: 'escalation-dialog', 'data-testid': 'escalation-dialog', 'aria-labelledby': 'escalation-dialog-heading' });
    this.element.addEventListener('close', () => {
      this.conversationId = null;
      this.resubmitting = null;
    });
  }

  get config() {
    return this.view.config;
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
      ...kinds.map((kind) => new Option(this.view.kindTitle(kind.id), kind.id)));
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
        el('span', { text: this.view.indicatorLabel(indicator.id) }))));
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
      const kind = this.view.kindConfig(kindSelect.value);
      const text = this.view.kindText(kindSelect.value);
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
      let result;
      if (this.resubmitting) {
        result = await request('POST', path(this.resubmitting.escalation_id, 'resubmit'), body);
      } else {
        result = await request('POST', '/api/escalations', { ...body, conversation_id: this.conversationId });
      }
      announce(t(result.state === 'sent' ? 'escalation.console.draft.sent_now' : 'escalation.console.draft.sent_for_approval'));
      this.close();
      await this.view.reload();
    } catch (failure) {
      showError(error, describeError(failure));
    } finally {
      button.disabled = false;
    }
  }
}
