// The knowledge bank in a conversation's side panel (docs/knowledge.md): at first the published
// resources for the chats' district, those in the conversation's language first (the server orders
// them: GET /api/resources); a search across articles and resources in every language; an article or
// a resource opened to read (its sanitised HTML in a sandboxed frame); and a published resource sent
// into the chat as a card (the conversation's outbox sends it with send_resource).
import { language, t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { languageLabel, tCount } from '/shared/format.js';
import * as api from './api.js';
import { knowledgeError, shownText } from './words.js';
import { sanitisedFrame, showSanitised } from './frame.js';

/** A published resource for relatives (R) as the panel lists it. */
function fromPublic(resource) {
  return {
    id: resource.id, kind: 'resource', published: true, audience: 'public', code: resource.language,
    title: resource.title, summary: resource.summary, html: resource.body_html,
  };
}

/** A staff item (S) of the search as the panel lists it: a resource in the conversation's language, an article in the console's. */
function fromStaff(item, conversationLanguage) {
  const shown = shownText(item, item.kind === 'resource' ? conversationLanguage : language());
  return {
    id: item.id, kind: item.kind, published: item.published, audience: item.audience, code: shown.code,
    title: shown.title, summary: shown.summary, html: shown.body_html,
  };
}

export class KnowledgePanel {
  /** root: the side card of the conversation template; ctx: { conversation(), district, onSend(entry) }. */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.entries = [];
    this.searched = '';
    this.seq = 0;
    this.build();
  }

  build() {
    const find = (selector) => this.root.querySelector(selector);
    this.form = find('.knowledge-panel__search');
    this.input = find('[data-testid="knowledge-panel-search"]');
    this.status = find('.knowledge-panel__status');
    this.error = find('.knowledge-panel__error');
    this.list = find('[data-testid="knowledge-panel-results"]');
    this.reader = find('.knowledge-panel__reader');
    this.readerTitle = find('.knowledge-panel__reader-title');
    this.frame = sanitisedFrame('', 'knowledge-panel-reader');
    this.readerTitle.after(this.frame);
    find('.knowledge-panel__reader-close').addEventListener('click', () => this.closeReader());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
  }

  /** The district's resources (no query), or the search's matches. */
  async load() {
    const query = this.input.value.trim();
    const conversationLanguage = this.ctx.conversation().language;
    const seq = ++this.seq;
    showError(this.error, '');
    let entries;
    try {
      entries = query
        ? ((await api.search(query)).items || []).map((item) => fromStaff(item, conversationLanguage))
        : ((await api.resourcesFor(conversationLanguage, this.ctx.district)).resources || []).map(fromPublic);
    } catch (error) {
      if (seq === this.seq) showError(this.error, knowledgeError(error));
      return;
    }
    if (seq !== this.seq) return;
    this.entries = entries;
    this.searched = query;
    this.render();
  }

  render() {
    const conversationLanguage = languageLabel(this.ctx.conversation().language);
    this.status.textContent = this.searched
      ? tCount('console.knowledge.panel.found', this.entries.length)
      : t('console.knowledge.panel.for_conversation', { language: conversationLanguage });
    this.list.replaceChildren(...this.entries.map((entry) => this.renderEntry(entry)));
  }

  renderEntry(entry) {
    const kind = entry.kind === 'resource' ? 'resource' : `article_${entry.audience}`;
    const badges = [el('span', { class: 'badge', text: t(`console.knowledge.panel.kind.${kind}`) })];
    if (!entry.published) badges.push(el('span', { class: 'badge', text: t('console.knowledge.draft') }));
    const actions = [el('button', {
      type: 'button', class: 'button button--quiet', 'data-testid': 'knowledge-panel-read',
      onclick: () => this.read(entry), text: t('console.knowledge.panel.read'),
    })];
    if (entry.kind === 'resource' && entry.published) {
      actions.push(el('button', {
        type: 'button', class: 'button', 'data-testid': 'knowledge-panel-send',
        onclick: () => this.ctx.onSend(entry), text: t('console.knowledge.panel.send'),
      }));
    }
    return el('li', { class: 'knowledge-panel__entry', 'data-testid': 'knowledge-panel-entry', 'data-item-id': entry.id },
      el('p', { class: 'knowledge-panel__title', lang: entry.code, dir: 'auto', text: entry.title }),
      el('p', { class: 'knowledge-panel__meta' }, ...badges, el('span', { text: languageLabel(entry.code) })),
      entry.summary ? el('p', { class: 'knowledge-panel__summary', lang: entry.code, dir: 'auto', text: entry.summary }) : null,
      el('p', { class: 'knowledge-panel__actions' }, ...actions));
  }

  read(entry) {
    this.reading = entry;
    this.reader.hidden = false;
    this.readerTitle.textContent = entry.title;
    this.readerTitle.lang = entry.code;
    this.frame.title = t('console.knowledge.panel.reader', { title: entry.title });
    showSanitised(this.frame, entry.html || '', entry.code);
    this.readerTitle.focus();
  }

  closeReader() {
    this.reading = null;
    this.reader.hidden = true;
    this.input.focus();
  }

  retranslate() {
    if (this.reading) this.frame.title = t('console.knowledge.panel.reader', { title: this.reading.title });
    this.render();
  }
}
