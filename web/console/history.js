// Closed conversations: a list, and a read-only transcript with its private notes.
// Loaded over HTTP when the view is opened or refreshed; reading one leaves an audit row on the server.
import { t } from '/shared/i18n.js';
import { closedConversations, conversationDetail } from './api.js';
import { el, showError } from '/shared/dom.js';
import { languageLabel, localDateTime } from '/shared/format.js';
import { errorText, labelFor } from './dom.js';
import { renderMessage, renderNote } from './messages.js';

export class HistoryView {
  constructor({ list, empty, error, detail, refresh }) {
    this.list = list;
    this.empty = empty;
    this.error = error;
    this.detail = detail;
    this.conversations = [];
    this.selectedId = null;
    this.detailData = null;
    refresh.addEventListener('click', () => this.load());
  }

  async load() {
    showError(this.error, '');
    try {
      const data = await closedConversations();
      this.conversations = data.conversations || [];
    } catch (error) {
      showError(this.error, errorText(error.code));
      return;
    }
    this.renderList();
  }

  renderList() {
    this.list.replaceChildren(...this.conversations.map((c) => this.renderItem(c)));
    this.empty.hidden = this.conversations.length > 0;
  }

  renderItem(conversation) {
    const id = conversation.conversation_id;
    const outcome = conversation.outcome ? labelFor('outcomes', conversation.outcome) : '';
    const button = el(
      'button',
      {
        type: 'button',
        class: 'history-item__button',
        'aria-current': id === this.selectedId ? 'true' : null,
      },
      el('span', { class: 'history-item__when', text: localDateTime(conversation.closed_at || conversation.created_at) }),
      el('span', { class: 'history-item__what', text: `${languageLabel(conversation.language)} · ${labelFor('topics', conversation.topic)}` }),
      el('span', { class: 'history-item__outcome', text: outcome }),
    );
    button.addEventListener('click', () => this.open(id));
    return el('li', { class: 'history-item', 'data-testid': 'history-item', 'data-conversation-id': id }, button);
  }

  async open(id) {
    this.selectedId = id;
    for (const button of this.list.querySelectorAll('.history-item__button')) {
      const selected = button.parentElement.dataset.conversationId === id;
      if (selected) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    let data;
    try {
      data = await conversationDetail(id);
    } catch (error) {
      this.detail.replaceChildren(el('p', { class: 'form-error', role: 'alert', text: errorText(error.code) }));
      return;
    }
    if (this.selectedId !== id) return;
    this.renderDetail(data);
    this.detail.focus({ preventScroll: true });
  }

  renderDetail(data) {
    this.detailData = data;
    const { conversation, messages = [], notes = [] } = data;
    const facts = [
      languageLabel(conversation.language),
      t('console.chat.started', { time: localDateTime(conversation.created_at) }),
    ];
    if (conversation.closed_at) facts.push(t('console.history.closed', { time: localDateTime(conversation.closed_at) }));
    if (conversation.outcome) facts.push(labelFor('outcomes', conversation.outcome));
    const transcript = el('ol', { class: 'messages messages--readonly', 'data-testid': 'transcript' });
    transcript.append(...[...messages].sort((a, b) => a.seq - b.seq).map(renderMessage));
    const noteList = el('ol', { class: 'notes', 'data-testid': 'history-notes' }, ...notes.map(renderNote));
    this.detail.replaceChildren(
      el('h3', { class: 'history__title', text: labelFor('topics', conversation.topic) }),
      el('p', { class: 'history__facts', text: facts.join(' · ') }),
      el('p', { class: 'history__readonly', text: t('console.history.readonly') }),
      el('div', { class: 'history__body' },
        el('section', { class: 'history__transcript', 'aria-label': t('console.history.transcript') }, transcript),
        el('section', { class: 'side-card side-card--private' },
          el('h4', { text: t('console.notes.heading') }),
          el('p', { class: 'side-card__notice', text: t('console.notes.notice') }),
          notes.length ? noteList : el('p', { class: 'notes__empty', text: t('console.history.no_notes') }))),
    );
  }

  retranslate() {
    this.renderList();
    if (this.detailData) this.renderDetail(this.detailData);
  }

  clear() {
    this.conversations = [];
    this.selectedId = null;
    this.detailData = null;
    this.list.replaceChildren();
    this.detail.replaceChildren(
      el('p', { class: 'history__placeholder', 'data-i18n': 'console.history.choose', text: t('console.history.choose') }),
    );
  }
}
