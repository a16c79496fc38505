// One open conversation: its tab, and its panel with messages, composer, private notes,
// canned answers, the knowledge bank (resources sent as cards), transfer and close.
import { language, t, translateDom } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { languageLabel, localDateTime, localTime } from '/shared/format.js';
import { errorText, labelFor, newClientId, textDirection } from './dom.js';
import { insertBySeq } from '/shared/messages.js';
import { KnowledgePanel } from './knowledge/panel.js';
import { renderMessage, renderNote } from './messages.js';

export const MAX_MESSAGE_LENGTH = 4000;
const TYPING_SEND_INTERVAL_MS = 2500;
const TYPING_SHOW_MS = 5000;
const RETRY_MAX_MS = 10000;
/** Send failures that repeating the same client_id cannot fix. */
const PERMANENT_SEND_ERRORS = new Set([
  'text_too_long', 'empty_text', 'conversation_closed', 'not_holder', 'not_found', 'invalid_request',
]);

export class ConversationPanel {
  /**
   * ctx: { ask(event, payload), user, settings, canned(language) -> Promise<answers>,
   *        isWatched(panel) -> bool, onGone(panel, reason) }
   */
  constructor(conversation, template, ctx) {
    this.id = conversation.conversation_id;
    this.conversation = conversation;
    this.ctx = ctx;
    this.seqs = new Set();
    this.maxSeq = 0;
    this.lastReadSent = 0;
    this.unread = conversation.unread || 0;
    this.historyLoaded = false;
    this.outbox = [];
    this.flushing = false;
    this.retryTimer = null;
    this.retryDelay = 1000;
    this.noteIds = new Set();
    this.lastTypingSent = 0;
    this.typingTimer = null;
    this.cannedById = new Map();
    this.staffById = new Map();
    this.buildTab();
    this.buildPanel(template);
    this.update(conversation);
  }

  /** The tab's name is its own text (no aria-label), so what it shows is always what it is called. */
  buildTab() {
    this.tabLabel = el('span', { class: 'tab__label' });
    this.tabTime = el('span', { class: 'tab__time' });
    this.tabPriority = el('span', { class: 'tab__priority', 'aria-hidden': 'true', hidden: true });
    this.tabDetails = el('span', { class: 'visually-hidden' });
    this.unreadBadge = el('span', { class: 'tab__unread', 'data-testid': 'unread', 'aria-hidden': 'true', hidden: true });
    this.unreadText = el('span', { class: 'visually-hidden' });
    this.tab = el(
      'button',
      {
        type: 'button',
        class: 'tab',
        role: 'tab',
        id: `tab-${this.id}`,
        'aria-controls': `panel-${this.id}`,
        'aria-selected': 'false',
        tabindex: '-1',
        'data-testid': 'chat-tab',
        'data-conversation-id': this.id,
      },
      this.tabPriority,
      this.tabLabel,
      this.tabTime,
      this.tabDetails,
      this.unreadBadge,
      this.unreadText,
    );
  }

  buildPanel(template) {
    const panel = template.content.firstElementChild.cloneNode(true);
    panel.id = `panel-${this.id}`;
    panel.hidden = true;
    panel.dataset.conversationId = this.id;
    panel.setAttribute('aria-labelledby', this.tab.id);
    const find = (selector) => panel.querySelector(selector);
    this.panel = panel;
    this.title = find('.conversation__title');
    this.meta = find('.conversation__meta');
    this.messages = find('[data-testid="messages"]');
    this.typing = find('.typing');
    this.composer = find('.composer');
    this.input = find('[data-testid="message-input"]');
    this.counter = find('.composer__counter');
    this.composerError = find('.composer__error');
    this.notes = find('[data-testid="notes"]');
    this.noteInput = find('[data-testid="note-input"]');
    this.noteError = find('.notes__error');
    this.cannedSelect = find('[data-testid="canned-select"]');
    this.cannedPreview = find('.canned__preview');
    this.cannedLanguage = find('.canned__language');
    this.cannedText = find('[data-testid="canned-preview"]');
    this.cannedInsert = find('[data-testid="canned-insert"]');
    this.transferSelect = find('[data-testid="transfer-select"]');
    this.transferError = find('.transfer__error');
    this.outcomeSelect = find('[data-testid="outcome-select"]');
    this.closeError = find('.close__error');
    this.knowledge = new KnowledgePanel(find('[data-testid="knowledge-panel"]'), {
      conversation: () => this.conversation,
      district: this.ctx.settings.district,
      onSend: (resource) => this.sendResource(resource),
    });
    translateDom(panel);
    this.wire(find);
    this.fillOutcomes();
    this.updateCounter();
  }

  wire(find) {
    this.composer.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submitComposer();
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.isComposing) {
        event.preventDefault();
        this.submitComposer();
      }
    });
    this.input.addEventListener('input', () => {
      this.updateCounter();
      this.sendTyping();
    });
    this.noteInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.submitNote();
      }
    });
    find('[data-testid="note-add"]').addEventListener('click', () => this.submitNote());
    this.cannedSelect.addEventListener('change', () => this.previewCanned());
    this.cannedInsert.addEventListener('click', () => this.insertCanned());
    find('.transfer__refresh').addEventListener('click', () => this.refreshStaff());
    find('[data-testid="transfer-button"]').addEventListener('click', () => this.submitTransfer());
    find('[data-testid="close-button"]').addEventListener('click', () => this.submitClose());
  }

  /** Fetch everything a freshly opened panel shows. */
  start() {
    this.loadHistory();
    this.loadNotes();
    this.loadCanned();
    this.knowledge.load();
    this.refreshStaff();
  }

  /** After a reconnect: fetch what was missed and resend what was never acked. */
  catchUp() {
    this.loadHistory();
    this.loadNotes();
    this.flush();
  }

  update(conversation) {
    this.conversation = conversation;
    const reason = this.priorityReason();
    this.tabLabel.textContent = languageLabel(conversation.language);
    this.tabTime.textContent = localTime(conversation.created_at);
    this.tabPriority.hidden = !reason;
    this.tabPriority.textContent = '!';
    this.tabPriority.title = reason;
    this.tab.classList.toggle('tab--priority', Boolean(reason));
    this.title.textContent = labelFor('topics', conversation.topic);
    const parts = [languageLabel(conversation.language), t('console.chat.started', { time: localTime(conversation.created_at) })];
    if (conversation.claimed_at) parts.push(t('console.chat.claimed', { time: localTime(conversation.claimed_at) }));
    this.meta.replaceChildren(parts.join(' · '));
    if (reason) this.meta.append(' ', el('span', { class: 'badge badge--danger', text: reason }));
    this.renderUnread();
  }

  /** Words for a raised priority, or '' for a normal one. */
  priorityReason() {
    const { priority, priority_reason: reason } = this.conversation;
    if (!(priority > 0)) return '';
    return reason ? labelFor('console.priority', reason) : t('console.priority.high');
  }

  renderUnread() {
    this.unreadBadge.hidden = this.unread <= 0;
    this.unreadBadge.textContent = String(this.unread);
    this.unreadText.textContent = this.unread > 0 ? `, ${t('console.chat.unread', { count: this.unread })}` : '';
    const details = [labelFor('topics', this.conversation.topic), this.priorityReason()].filter(Boolean);
    this.tabDetails.textContent = details.map((part) => `, ${part}`).join('');
  }

  setActive(active) {
    this.panel.hidden = !active;
    this.tab.setAttribute('aria-selected', String(active));
    this.tab.tabIndex = active ? 0 : -1;
    if (active) this.scrollToEnd();
  }

  // ---- messages ----

  async loadHistory() {
    const countUnread = this.historyLoaded;
    const ack = await this.ctx.ask('history', { conversation_id: this.id, after_seq: this.maxSeq });
    if (!ack.ok) return;
    this.historyLoaded = true;
    this.receive(ack.messages || [], { countUnread });
  }

  /**
   * Add messages, skipping seqs already shown. Returns how many new relative messages arrived.
   * countUnread is false for the first history load, which C.unread already counts.
   */
  receive(messages, { countUnread }) {
    const nearEnd = this.isNearEnd();
    let fromRelative = 0;
    for (const message of messages) {
      if (this.seqs.has(message.seq)) continue;
      this.seqs.add(message.seq);
      this.maxSeq = Math.max(this.maxSeq, message.seq);
      insertBySeq(this.messages, renderMessage(message), message.seq);
      if (message.sender === 'relative') fromRelative += 1;
    }
    if (fromRelative > 0) this.hideTyping();
    if (nearEnd) this.scrollToEnd();
    if (countUnread && fromRelative > 0 && !this.ctx.isWatched(this)) {
      this.unread += fromRelative;
      this.renderUnread();
    }
    this.markRead();
    return fromRelative;
  }

  /** Tell the server (and so the relative) what has been read, if this panel is being looked at. */
  async markRead() {
    if (!this.ctx.isWatched(this)) return;
    if (this.unread !== 0) {
      this.unread = 0;
      this.renderUnread();
    }
    if (this.maxSeq <= this.lastReadSent) return;
    const previous = this.lastReadSent;
    this.lastReadSent = this.maxSeq;
    const ack = await this.ctx.ask('read', { conversation_id: this.id, seq: this.maxSeq });
    if (!ack.ok && this.lastReadSent === this.maxSeq) this.lastReadSent = previous;
  }

  isNearEnd() {
    const list = this.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  scrollToEnd() {
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  showTyping() {
    this.typing.hidden = false;
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
  }

  hideTyping() {
    window.clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  }

  // ---- composer ----

  updateCounter() {
    const length = this.input.value.length;
    this.counter.textContent = t('console.chat.counter', { count: length, max: MAX_MESSAGE_LENGTH });
    this.counter.classList.toggle('composer__counter--over', length > MAX_MESSAGE_LENGTH);
  }

  sendTyping() {
    const now = Date.now();
    if (!this.input.value || now - this.lastTypingSent < TYPING_SEND_INTERVAL_MS) return;
    this.lastTypingSent = now;
    this.ctx.ask('typing', { conversation_id: this.id });
  }

  submitComposer() {
    const text = this.input.value;
    if (!text.trim()) return;
    if (text.length > MAX_MESSAGE_LENGTH) {
      showError(this.composerError, errorText('text_too_long'));
      return;
    }
    showError(this.composerError, '');
    this.input.value = '';
    this.updateCounter();
    this.send(text);
  }

  send(text) {
    this.enqueue({ text });
  }

  /** A published resource of the knowledge bank, sent as a card (send_resource) through the same outbox. */
  sendResource(resource) {
    this.enqueue({ text: resource.title, resourceId: resource.id });
  }

  enqueue({ text, resourceId = null }) {
    const element = this.renderPending(text);
    this.messages.append(element);
    this.scrollToEnd();
    this.outbox.push({ clientId: newClientId(), text, resourceId, element });
    this.flush();
  }

  renderPending(text) {
    return el(
      'li',
      { class: 'message message--counsellor message--pending', 'data-testid': 'message-pending' },
      el(
        'p',
        { class: 'message__meta' },
        el('span', { class: 'message__sender', 'data-i18n': 'console.sender.counsellor', text: t('console.sender.counsellor') }),
        ' ',
        el('span', { class: 'message__status', 'data-i18n': 'console.chat.sending', text: t('console.chat.sending') }),
      ),
      el('p', { class: 'message__text', dir: 'auto', text }),
    );
  }

  /** Send queued messages one at a time, in order, repeating each client_id until it is acked. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    window.clearTimeout(this.retryTimer);
    try {
      while (this.outbox.length > 0) {
        const item = this.outbox[0];
        const ack = item.resourceId === null
          ? await this.ctx.ask('send_message', { conversation_id: this.id, client_id: item.clientId, text: item.text })
          : await this.ctx.ask('send_resource', {
            conversation_id: this.id, client_id: item.clientId, resource_id: item.resourceId,
          });
        if (ack.ok) {
          this.outbox.shift();
          this.retryDelay = 1000;
          item.element.remove();
          this.receive([ack.message], { countUnread: false });
        } else if (PERMANENT_SEND_ERRORS.has(ack.error?.code)) {
          this.outbox.shift();
          this.markFailed(item.element, ack.error.code);
        } else {
          this.retryTimer = window.setTimeout(() => this.flush(), this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  markFailed(element, code) {
    element.classList.replace('message--pending', 'message--failed');
    const status = element.querySelector('.message__status');
    status.removeAttribute('data-i18n');
    status.textContent = t('console.chat.not_sent', { reason: errorText(code) });
  }

  // ---- notes ----

  async loadNotes() {
    const ack = await this.ctx.ask('notes', { conversation_id: this.id });
    if (ack.ok) for (const note of ack.notes || []) this.addNote(note);
  }

  addNote(note) {
    if (this.noteIds.has(note.id)) return;
    this.noteIds.add(note.id);
    this.notes.append(renderNote(note));
  }

  async submitNote() {
    const text = this.noteInput.value.trim();
    if (!text) {
      showError(this.noteError, t('console.errors.empty_note'));
      return;
    }
    showError(this.noteError, '');
    const ack = await this.ctx.ask('add_note', { conversation_id: this.id, text });
    if (!ack.ok) {
      showError(this.noteError, errorText(ack.error?.code));
      return;
    }
    this.noteInput.value = '';
    this.addNote(ack.note);
  }

  // ---- canned answers ----

  /**
   * The answers in the conversation's language, titled in the console's: the ids are the same in
   * every config/knowledge/<lang>.toml, and a title missing in the console's language stays as it is.
   */
  async loadCanned() {
    const [answers, titled] = await Promise.all([
      this.cannedIn(this.conversation.language),
      this.cannedIn(language()),
    ]);
    const titles = new Map(titled.map((answer) => [String(answer.id), answer.title]));
    this.cannedById = new Map(answers.map((answer) => {
      const id = String(answer.id);
      return [id, { ...answer, title: titles.get(id) || answer.title }];
    }));
    this.fillCanned();
  }

  async cannedIn(code) {
    try {
      return await this.ctx.canned(code);
    } catch {
      return [];
    }
  }

  fillCanned() {
    const selected = this.cannedSelect.value;
    const empty = this.cannedById.size === 0;
    const placeholder = t(empty ? 'console.canned.none' : 'console.canned.choose');
    this.cannedSelect.replaceChildren(
      el('option', { value: '', text: placeholder }),
      ...[...this.cannedById].map(([id, answer]) => el('option', { value: id, text: answer.title })),
    );
    this.cannedSelect.disabled = empty;
    if (this.cannedById.has(selected)) this.cannedSelect.value = selected;
    this.previewCanned();
  }

  /** Show the chosen answer as it will be sent: in the conversation's language and direction. */
  previewCanned() {
    const answer = this.cannedById.get(this.cannedSelect.value);
    const code = this.conversation.language;
    this.cannedPreview.hidden = !answer;
    this.cannedInsert.disabled = !answer;
    this.cannedLanguage.textContent = t('console.canned.preview', { language: languageLabel(code) });
    this.cannedText.lang = code;
    this.cannedText.dir = textDirection(code);
    this.cannedText.textContent = answer ? answer.text : '';
  }

  insertCanned() {
    const answer = this.cannedById.get(this.cannedSelect.value);
    if (!answer) return;
    this.cannedSelect.value = '';
    this.previewCanned();
    const input = this.input;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    input.setRangeText(answer.text, start, end, 'end');
    input.focus();
    this.updateCounter();
  }

  // ---- transfer ----

  async refreshStaff() {
    const ack = await this.ctx.ask('staff', {});
    if (!ack.ok) {
      showError(this.transferError, errorText(ack.error?.code));
      return;
    }
    showError(this.transferError, '');
    const colleagues = (ack.staff || []).filter((member) => String(member.id) !== String(this.ctx.user.id));
    this.staffById = new Map(colleagues.map((member) => [String(member.id), member]));
    this.fillStaff();
  }

  fillStaff() {
    const selected = this.transferSelect.value;
    const options = [...this.staffById.values()].map((member) => {
      const full = member.load >= member.capacity;
      return el('option', {
        value: String(member.id),
        disabled: !member.online || full,
        text: t('console.transfer.option', {
          name: member.display_name,
          state: t(member.online ? 'console.transfer.online' : 'console.transfer.offline'),
          load: member.load,
          capacity: member.capacity,
        }),
      });
    });
    const placeholder = t(options.length ? 'console.transfer.choose' : 'console.transfer.none');
    this.transferSelect.replaceChildren(el('option', { value: '', text: placeholder }), ...options);
    if (this.staffById.has(selected)) this.transferSelect.value = selected;
  }

  async submitTransfer() {
    const member = this.staffById.get(this.transferSelect.value);
    if (!member) {
      showError(this.transferError, t('console.errors.choose_colleague'));
      return;
    }
    showError(this.transferError, '');
    const ack = await this.ctx.ask('transfer', { conversation_id: this.id, to_user_id: member.id });
    if (!ack.ok) {
      showError(this.transferError, errorText(ack.error?.code));
      this.refreshStaff();
      return;
    }
    this.ctx.onGone(this, 'transferred');
  }

  // ---- close ----

  fillOutcomes() {
    const selected = this.outcomeSelect.value;
    const outcomes = this.ctx.settings.outcomes || [];
    this.outcomeSelect.replaceChildren(
      el('option', { value: '', text: t('console.close.choose') }),
      ...outcomes.map((id) => el('option', { value: id, text: labelFor('outcomes', id) })),
    );
    this.outcomeSelect.value = selected;
  }

  async submitClose() {
    const outcome = this.outcomeSelect.value;
    if (!outcome) {
      showError(this.closeError, t('console.errors.choose_outcome'));
      this.outcomeSelect.focus();
      return;
    }
    showError(this.closeError, '');
    const ack = await this.ctx.ask('close', { conversation_id: this.id, outcome });
    if (!ack.ok) {
      showError(this.closeError, errorText(ack.error?.code));
      return;
    }
    this.ctx.onGone(this, 'closed');
  }

  // ---- lifecycle ----

  retranslate() {
    translateDom(this.panel);
    this.update(this.conversation);
    this.updateCounter();
    this.loadCanned();
    this.knowledge.retranslate();
    this.fillStaff();
    this.fillOutcomes();
    for (const time of this.panel.querySelectorAll('.message__time')) time.textContent = localTime(time.dateTime);
    for (const time of this.panel.querySelectorAll('.note__time')) time.textContent = localDateTime(time.dateTime);
  }

  destroy() {
    window.clearTimeout(this.retryTimer);
    window.clearTimeout(this.typingTimer);
    this.outbox = [];
    this.tab.remove();
    this.panel.remove();
  }
}
