// The live queue column. The server pushes the head of the queue (chat.console_queue_shown) and
// the total on connect and on every change; this view reconciles it by conversation_id so focus
// and per-item errors survive updates.
import { t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { formatElapsed, languageLabel } from '/shared/format.js';
import { errorText, labelFor } from './dom.js';

export class QueueView {
  /**
   * onClaim(conversationId) resolves to an ack; onNewItem() fires for ids never seen before in this session.
   * error shows a failed claim; it lives outside the items because the item may vanish before the ack.
   * confirmAway(button) resolves true when a conversation whose relative is away is to be claimed anyway.
   */
  constructor({ list, count, empty, more, error, onClaim, onNewItem, confirmAway }) {
    this.list = list;
    this.count = count;
    this.empty = empty;
    this.more = more;
    this.total = 0;
    this.error = error;
    this.onClaim = onClaim;
    this.onNewItem = onNewItem;
    this.confirmAway = confirmAway;
    this.items = new Map();
    this.seen = new Set();
    this.primed = false;
  }

  /** total: how many wait in all, of which `conversations` is the head (an older server sent all). */
  update(conversations, total = conversations.length) {
    const ids = new Set(conversations.map((q) => q.conversation_id));
    for (const [id, item] of this.items) {
      if (!ids.has(id)) {
        item.element.remove();
        this.items.delete(id);
      }
    }
    let cursor = this.list.firstElementChild;
    for (const q of conversations) {
      const item = this.items.get(q.conversation_id) || this.create(q);
      this.fill(item, q);
      if (item.element === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(item.element, cursor);
      if (!this.seen.has(q.conversation_id)) {
        this.seen.add(q.conversation_id);
        if (this.primed) this.onNewItem(q);
      }
    }
    // The first push after login is the existing queue, not news.
    this.primed = true;
    this.total = total;
    this.count.textContent = String(total);
    this.empty.hidden = total > 0;
    this.fillMore(conversations.length);
  }

  fillMore(shown = this.items.size) {
    this.more.hidden = this.total <= shown;
    this.more.textContent = this.more.hidden ? '' : t('console.queue.more', { shown, total: this.total });
  }

  create(q) {
    const id = q.conversation_id;
    const language = el('span', { class: 'badge queue-item__language', 'data-testid': 'queue-language' });
    const needs = el('span', { class: 'badge queue-item__needs', 'data-testid': 'queue-needs-language', hidden: true });
    const badge = el('span', { class: 'badge badge--danger', hidden: true });
    const topic = el('span', { class: 'queue-item__topic', id: `queue-topic-${id}` });
    const waited = el('time', { class: 'queue-item__elapsed' });
    const waitingLabel = el('span', { class: 'queue-item__waiting-label' });
    const away = el('p', { class: 'queue-item__away', id: `queue-away-${id}`, 'data-testid': 'queue-away', hidden: true });
    const claim = el('button', {
      type: 'button',
      class: 'button button--primary queue-item__claim',
      'data-testid': 'claim',
      'aria-describedby': `queue-topic-${id}`,
    });
    claim.addEventListener('click', () => this.claim(id, claim));
    const element = el(
      'li',
      { class: 'queue-item', 'data-testid': 'queue-item', 'data-conversation-id': id },
      el('div', { class: 'queue-item__head' }, language, needs, badge),
      topic,
      away,
      el('p', { class: 'queue-item__waiting' }, waitingLabel, ' ', waited),
      claim,
    );
    const item = { element, language, needs, badge, topic, away, waited, waitingLabel, claim, q };
    this.items.set(id, item);
    return item;
  }

  fill(item, q) {
    item.q = q;
    item.element.dataset.language = q.language;
    item.element.classList.toggle('queue-item--priority', q.priority > 0);
    item.language.textContent = languageLabel(q.language);
    // The relative waits for a counsellor who speaks their language, and this counsellor does not.
    item.needs.hidden = !q.needs_language;
    item.needs.textContent = q.needs_language ? t('console.queue.needs_language', { language: languageLabel(q.language) }) : '';
    item.needs.title = q.needs_language ? t('console.queue.needs_language_hint') : '';
    item.topic.textContent = labelFor('topics', q.topic);
    item.badge.hidden = !(q.priority > 0);
    item.badge.textContent = q.priority_reason
      ? labelFor('console.priority', q.priority_reason)
      : t('console.priority.high');
    item.waitingLabel.textContent = t('console.queue.waiting');
    item.waited.dateTime = q.waiting_since;
    item.waited.textContent = formatElapsed(q.waiting_since);
    item.claim.textContent = t('console.queue.claim');
    this.fillAway(item, q);
  }

  fillAway(item, q) {
    const id = q.conversation_id;
    item.element.classList.toggle('queue-item--away', Boolean(q.away));
    item.away.hidden = !q.away;
    item.away.textContent = t('console.queue.away');
    item.claim.setAttribute('aria-describedby', q.away ? `queue-topic-${id} queue-away-${id}` : `queue-topic-${id}`);
  }

  async claim(id, button) {
    if (this.items.get(id)?.q.away && !(await this.confirmAway(button))) return;
    button.disabled = true;
    showError(this.error, '');
    const ack = await this.onClaim(id);
    if (!ack.ok) showError(this.error, errorText(ack.error?.code));
    button.disabled = false;
  }

  /** Called every second: waiting times tick without asking the server. */
  tick() {
    const now = Date.now();
    for (const item of this.items.values()) item.waited.textContent = formatElapsed(item.q.waiting_since, now);
  }

  retranslate() {
    for (const item of this.items.values()) this.fill(item, item.q);
    this.fillMore();
  }

  clear() {
    this.items.clear();
    this.seen.clear();
    this.primed = false;
    this.list.replaceChildren();
    showError(this.error, '');
    this.total = 0;
    this.count.textContent = '0';
    this.empty.hidden = false;
    this.fillMore(0);
  }
}
