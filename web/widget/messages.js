// The message list: server messages in seq order (each seq once), then the relative's pending messages.
// Text is always set with textContent.

import { t } from '/shared/i18n.js';
import { errorText, formatTime } from '/shared/format.js';
import { insertBySeq, messageText, resourceCard, senderOf } from '/shared/messages.js';

const STATUS_ICONS = { pending: '\u25F7', delivered: '\u2713', read: '\u2713\u2713', failed: '!' };

/** Sent time in the reader's own time zone. */
function formatSentAt(isoTime) {
  const date = new Date(isoTime);
  return Number.isNaN(date.getTime()) ? '' : formatTime(date, undefined);
}

export class MessageList {
  #list;
  #bySeq = new Map();
  #pending = new Map();
  #readSeq = 0;

  constructor(listElement) {
    this.#list = listElement;
  }

  clear() {
    this.#list.replaceChildren();
    this.#bySeq.clear();
    this.#pending.clear();
    this.#readSeq = 0;
  }

  has(seq) {
    return this.#bySeq.has(seq);
  }

  /** Add a stored message M; a seq already shown is ignored. Returns the new element or null. */
  add(message) {
    if (this.#bySeq.has(message.seq)) return null;
    const sender = senderOf(message);
    const element = this.#build(sender, message.text);
    if (message.resource && typeof message.resource === 'object') {
      // A card replaces the plain text, which is there for clients that do not know cards.
      element.querySelector('.message-text').replaceWith(resourceCard(message.resource, t));
    }
    element.dataset.seq = String(message.seq);
    element.dataset.sentAt = message.sent_at ?? '';
    if (sender === 'relative') element.dataset.status = message.seq <= this.#readSeq ? 'read' : 'delivered';
    this.#bySeq.set(message.seq, element);
    insertBySeq(this.#list, element, message.seq);
    this.#render(element);
    return element;
  }

  /** Show an outbox entry ({client_id, text, state, error}) at the end of the list, or update it. */
  showPending(entry) {
    let element = this.#pending.get(entry.client_id);
    if (!element) {
      element = this.#build('relative', entry.text);
      element.dataset.clientId = entry.client_id;
      this.#pending.set(entry.client_id, element);
      this.#list.append(element);
    }
    element.dataset.status = entry.state === 'failed' ? 'failed' : 'pending';
    if (entry.error) element.dataset.error = entry.error;
    else delete element.dataset.error;
    this.#render(element);
  }

  removePending(clientId) {
    this.#pending.get(clientId)?.remove();
    this.#pending.delete(clientId);
  }

  /** The counsellor has read everything up to seq. */
  markRead(seq) {
    this.#readSeq = Math.max(this.#readSeq, seq);
    for (const [messageSeq, element] of this.#bySeq) {
      if (messageSeq <= this.#readSeq && element.dataset.status === 'delivered') {
        element.dataset.status = 'read';
        this.#render(element);
      }
    }
  }

  /** Re-render labels, times and marks in the current language. */
  retranslate() {
    for (const element of this.#list.children) this.#render(element);
  }

  #build(sender, text) {
    const item = document.createElement('li');
    item.className = `message message-${sender}`;
    item.dataset.testid = 'message';
    item.dataset.sender = sender;

    const meta = document.createElement('p');
    meta.className = 'message-meta';
    const label = document.createElement('span');
    label.className = 'message-sender';
    const time = document.createElement('time');
    time.className = 'message-time';
    meta.append(label, ' ', time);

    item.append(meta, messageText('message-text', text));
    if (sender === 'relative') {
      const mark = document.createElement('p');
      mark.className = 'message-status';
      mark.dataset.testid = 'message-status';
      const icon = document.createElement('span');
      icon.className = 'message-status-icon';
      icon.setAttribute('aria-hidden', 'true');
      const statusText = document.createElement('span');
      statusText.className = 'message-status-text';
      mark.append(icon, statusText);
      item.append(mark);
    }
    return item;
  }

  #render(element) {
    const { sender, status, sentAt, error } = element.dataset;
    element.querySelector('.message-sender').textContent = t(`widget.sender_${sender}`);
    const time = element.querySelector('.message-time');
    if (sentAt) {
      time.dateTime = sentAt;
      time.textContent = formatSentAt(sentAt);
    }
    const mark = element.querySelector('.message-status');
    if (mark && status) {
      mark.querySelector('.message-status-icon').textContent = STATUS_ICONS[status] ?? '';
      let text = t(`widget.status_${status}`);
      if (error) text = `${text} ${errorText(error)}`;
      mark.querySelector('.message-status-text').textContent = text;
    }
  }
}
