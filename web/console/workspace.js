// The counsellor's open conversations as tabs with one visible panel. Driven by `mine`,
// `message`, `typing` and `note` events; one ConversationPanel per conversation.
import { t } from '/shared/i18n.js';
import { alertUser, isAttending } from './alerts.js';
import { announce } from './dom.js';
import { ConversationPanel } from './conversation.js';

export class Workspace {
  /** ctx as for ConversationPanel, minus isWatched and onGone, which the workspace supplies. */
  constructor({ tabs, panels, empty, template, ctx }) {
    this.tabs = tabs;
    this.panelsRoot = panels;
    this.empty = empty;
    this.template = template;
    this.ctx = {
      ...ctx,
      isWatched: (panel) => this.isWatched(panel),
      onGone: (panel, reason) => this.remove(panel.id, reason),
    };
    this.panels = new Map();
    this.activeId = null;
    this.liveVisible = true;
    this.claiming = new Set();
    this.primed = false;
    tabs.addEventListener('keydown', (event) => this.onTabKey(event));
  }

  isWatched(panel) {
    return this.liveVisible && panel.id === this.activeId && isAttending();
  }

  /** The full list of conversations this counsellor holds, pushed on connect and on every change. */
  syncMine(conversations) {
    const ids = new Set(conversations.map((c) => c.conversation_id));
    for (const id of [...this.panels.keys()]) {
      if (!ids.has(id)) this.remove(id, 'gone');
    }
    for (const conversation of conversations) {
      const existing = this.panels.get(conversation.conversation_id);
      if (existing) {
        existing.update(conversation);
        continue;
      }
      this.open(conversation);
      // A conversation handed over by a colleague is news; one this page claimed, or held at login, is not.
      if (this.primed && !this.claiming.has(conversation.conversation_id)) alertUser('conversation');
    }
    this.primed = true;
    if (!this.activeId && this.panels.size > 0) this.select(this.panels.keys().next().value);
  }

  open(conversation) {
    const panel = new ConversationPanel(conversation, this.template, this.ctx);
    this.panels.set(panel.id, panel);
    panel.tab.addEventListener('click', () => this.select(panel.id));
    this.tabs.append(panel.tab);
    this.panelsRoot.append(panel.panel);
    this.empty.hidden = true;
    panel.start();
    return panel;
  }

  /** Claim from the queue: open the conversation at once (the `mine` push may come before or after). */
  async claim(conversationId) {
    this.claiming.add(conversationId);
    const ack = await this.ctx.ask('claim', { conversation_id: conversationId });
    if (ack.ok) {
      const conversation = ack.conversation;
      const panel = this.panels.get(conversationId) || this.open(conversation);
      this.select(panel.id);
      panel.input.focus();
    }
    this.claiming.delete(conversationId);
    return ack;
  }

  remove(id, reason) {
    const panel = this.panels.get(id);
    if (!panel) return;
    const wasActive = this.activeId === id;
    const neighbour = panel.tab.nextElementSibling || panel.tab.previousElementSibling;
    panel.destroy();
    this.panels.delete(id);
    announce(t(`console.chat.removed_${reason}`));
    if (wasActive) {
      this.activeId = null;
      if (neighbour) this.select(neighbour.dataset.conversationId);
    }
    this.empty.hidden = this.panels.size > 0;
  }

  select(id, { focusTab = false } = {}) {
    const next = this.panels.get(id);
    if (!next) return;
    for (const panel of this.panels.values()) panel.setActive(panel === next);
    this.activeId = id;
    if (focusTab) next.tab.focus();
    next.refreshStaff();
    next.markRead();
  }

  /** Arrow keys, Home and End move between tabs (WAI-ARIA tabs pattern, automatic activation). */
  onTabKey(event) {
    const tabs = [...this.tabs.querySelectorAll('[role="tab"]')];
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const rtl = document.documentElement.dir === 'rtl';
    const moves = {
      ArrowRight: rtl ? -1 : 1,
      ArrowLeft: rtl ? 1 : -1,
      Home: -index,
      End: tabs.length - 1 - index,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const target = tabs[(index + moves[event.key] + tabs.length) % tabs.length];
    this.select(target.dataset.conversationId, { focusTab: true });
  }

  onMessage(message) {
    const panel = this.panels.get(message.conversation_id);
    if (!panel) return;
    if (panel.receive([message], { countUnread: true }) > 0) alertUser('message');
  }

  onTyping({ conversation_id: id }) {
    this.panels.get(id)?.showTyping();
  }

  onNote(note) {
    this.panels.get(note.conversation_id)?.addNote(note);
  }

  onConnect() {
    for (const panel of this.panels.values()) panel.catchUp();
  }

  /** Focus returned to the page, or the live view was shown again. */
  markActiveRead() {
    this.panels.get(this.activeId)?.markRead();
  }

  setLiveVisible(visible) {
    this.liveVisible = visible;
    if (visible) this.markActiveRead();
  }

  retranslate() {
    for (const panel of this.panels.values()) panel.retranslate();
  }

  clear() {
    for (const id of [...this.panels.keys()]) this.panels.get(id).destroy();
    this.panels.clear();
    this.activeId = null;
    this.primed = false;
    this.empty.hidden = false;
  }
}
