// The knowledge bank's editor for the coordinator and admins (docs/knowledge.md): a list per kind
// (articles, resources, canned answers, danger words) with search, and an editor with a tab per
// language, the resource's fields, a live preview the server renders, publish and unpublish, delete,
// and the version history. Everything is built with textContent; the preview is the server's
// sanitised HTML in a sandboxed frame (frame.js).
import { t } from '/shared/i18n.js';
import { el, showError } from '/shared/dom.js';
import { languageLabel, localDateTime } from '/shared/format.js';
import { staffSettings } from '../api.js';
import { announce, labelFor, textDirection } from '../dom.js';
import * as api from './api.js';
import { sanitisedFrame, showSanitised } from './frame.js';
import { knowledgeError, shownText } from './words.js';

export const EDITOR_ROLES = new Set(['coordinator', 'admin']);
export const LANGUAGES = ['sv', 'en', 'ar', 'so', 'fa', 'ti'];
const PREVIEW_DELAY_MS = 400;
const ALL_DISTRICTS = 'all';
const CONTACT_FIELDS = ['phone', 'url', 'address', 'hours'];
/** What each kind of item has beside its texts. */
const SHAPES = {
  articles: { key: false, audience: true, perspectives: true, districts: false, contact: false, summary: true, markdown: true },
  resources: { key: false, audience: false, perspectives: true, districts: true, contact: true, summary: true, markdown: true },
  'canned-answers': { key: true, audience: false, perspectives: false, districts: false, contact: false, summary: false, markdown: false },
  'danger-words': { key: true, audience: false, perspectives: false, districts: false, contact: false, summary: false, markdown: false },
};
const KEY_OF = { articles: 'articles', resources: 'resources', 'canned-answers': 'canned', 'danger-words': 'danger' };

export class KnowledgeView {
  constructor({ root, nav }) {
    this.root = root;
    this.nav = nav;
    this.collection = 'articles';
    this.items = [];
    this.current = null;
    this.editing = false;
    this.options = { districts: [], perspectives: [] };
    this.optionsLoaded = false;
    this.activeLanguage = 'sv';
    this.previewTimer = null;
    this.previewSeq = 0;
    this.build();
  }

  // ---- building ----

  build() {
    this.heading = el('h2', { id: 'knowledge-heading' });
    this.intro = el('p', { class: 'knowledge__intro' });
    this.kindGroup = el('div', { class: 'knowledge__kinds', role: 'group' });
    this.kindButtons = new Map(api.COLLECTIONS.map((collection) => {
      const button = el('button', {
        type: 'button', class: 'view-button', 'aria-pressed': 'false', 'data-testid': `knowledge-kind-${collection}`,
        onclick: () => this.choose(collection),
      });
      this.kindGroup.append(button);
      return [collection, button];
    }));
    this.searchLabel = el('span');
    this.searchInput = el('input', { type: 'search', name: 'q', maxlength: '200', 'data-testid': 'knowledge-search' });
    this.searchButton = el('button', { type: 'submit', class: 'button' });
    this.searchForm = el('form', { class: 'knowledge__search', role: 'search', novalidate: true },
      el('label', { class: 'field' }, this.searchLabel, this.searchInput), this.searchButton);
    this.searchForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
    this.newButton = el('button', { type: 'button', class: 'button button--primary', 'data-testid': 'knowledge-new', onclick: () => this.openNew() });
    this.listError = el('p', { class: 'form-error', role: 'alert', hidden: true });
    this.listHeading = el('h3', { id: 'knowledge-list-heading', class: 'visually-hidden' });
    this.list = el('ul', { class: 'knowledge__list', 'data-testid': 'knowledge-list', 'aria-labelledby': 'knowledge-list-heading' });
    this.empty = el('p', { class: 'knowledge__empty', hidden: true });
    const listColumn = el('div', { class: 'knowledge__list-column' },
      this.kindGroup, this.searchForm, this.newButton, this.listError, this.listHeading, this.list, this.empty);
    this.editor = this.buildEditor();
    this.root.replaceChildren(this.heading, this.intro, el('div', { class: 'knowledge__layout' }, listColumn, this.editor));
  }

  buildEditor() {
    this.editorHeading = el('h3', { id: 'knowledge-editor-heading', tabindex: '-1' });
    this.stateBadge = el('span', { class: 'badge', 'data-testid': 'knowledge-state' });
    this.formError = el('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'knowledge-error' });
    this.keyLabel = el('span');
    this.keyInput = el('input', { name: 'key', maxlength: '64', spellcheck: 'false', 'data-testid': 'knowledge-key' });
    this.keyField = el('label', { class: 'field knowledge__narrow' }, this.keyLabel, this.keyInput);
    this.audienceLabel = el('span');
    this.audienceSelect = el('select', { name: 'audience', 'data-testid': 'knowledge-audience' });
    this.audienceField = el('label', { class: 'field knowledge__narrow' }, this.audienceLabel, this.audienceSelect);
    this.perspectivesLegend = el('legend');
    this.perspectivesBox = el('div', { class: 'knowledge__checks' });
    this.perspectivesField = el('fieldset', { class: 'knowledge__fieldset' }, this.perspectivesLegend, this.perspectivesBox);
    this.districtsLegend = el('legend');
    this.districtsBox = el('div', { class: 'knowledge__checks' });
    this.districtsField = el('fieldset', { class: 'knowledge__fieldset' }, this.districtsLegend, this.districtsBox);
    this.contactLegend = el('legend');
    this.contactLabels = {};
    this.contactInputs = {};
    for (const field of CONTACT_FIELDS) {
      this.contactLabels[field] = el('span');
      this.contactInputs[field] = el('input', {
        name: field,
        type: field === 'url' ? 'url' : field === 'phone' ? 'tel' : 'text',
        maxlength: field === 'phone' ? '40' : '500',
        dir: 'auto',
        'data-testid': `knowledge-${field}`,
      });
    }
    this.contactField = el('fieldset', { class: 'knowledge__fieldset knowledge__contact' }, this.contactLegend,
      ...CONTACT_FIELDS.map((field) => el('label', { class: 'field' }, this.contactLabels[field], this.contactInputs[field])));
    this.buildLanguageTabs();
    this.previewHeading = el('h4', { id: 'knowledge-preview-heading' });
    this.previewFrame = sanitisedFrame('', 'knowledge-preview');
    this.previewSection = el('section', { class: 'knowledge__preview', 'aria-labelledby': 'knowledge-preview-heading' },
      this.previewHeading, this.previewFrame);
    this.saveButton = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'knowledge-save' });
    this.publishButton = el('button', { type: 'button', class: 'button', 'data-testid': 'knowledge-publish', onclick: () => this.togglePublished() });
    this.deleteButton = el('button', { type: 'button', class: 'button button--danger', 'data-testid': 'knowledge-delete', onclick: () => this.askDelete(true) });
    this.closeButton = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.closeEditor() });
    this.deleteQuestion = el('span');
    this.deleteConfirm = el('button', { type: 'button', class: 'button button--danger', 'data-testid': 'knowledge-delete-confirm', onclick: () => this.deleteItem() });
    this.deleteCancel = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.askDelete(false) });
    this.deleteRow = el('p', { class: 'knowledge__confirm', hidden: true }, this.deleteQuestion, this.deleteConfirm, this.deleteCancel);
    this.status = el('p', { class: 'knowledge__status', role: 'status', 'data-testid': 'knowledge-status' });
    this.form = el('form', { class: 'knowledge__form', novalidate: true, 'data-testid': 'knowledge-form' },
      this.formError, el('div', { class: 'knowledge__row' }, this.keyField, this.audienceField),
      this.perspectivesField, this.districtsField, this.contactField, this.tabList, ...this.tabPanels.values(),
      this.previewSection,
      el('div', { class: 'knowledge__actions' }, this.saveButton, this.publishButton, this.deleteButton, this.closeButton),
      this.deleteRow, this.status);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.save();
    });
    this.versionsHeading = el('h4', { id: 'knowledge-versions-heading' });
    this.versionsList = el('ol', { class: 'knowledge__versions', 'data-testid': 'knowledge-versions' });
    this.versionsEmpty = el('p', { class: 'knowledge__empty' });
    this.versionsSection = el('section', { class: 'knowledge__history', 'aria-labelledby': 'knowledge-versions-heading' },
      this.versionsHeading, this.versionsList, this.versionsEmpty);
    return el('section', { class: 'knowledge__editor', hidden: true, 'aria-labelledby': 'knowledge-editor-heading', 'data-testid': 'knowledge-editor' },
      el('header', { class: 'knowledge__editor-header' }, this.editorHeading, this.stateBadge), this.form, this.versionsSection);
  }

  /** One tab per language (WAI-ARIA tabs): each panel holds that language's title, summary and body. */
  buildLanguageTabs() {
    this.tabList = el('div', { class: 'tabs knowledge__tabs', role: 'tablist' });
    this.tabList.addEventListener('keydown', (event) => this.onTabKey(event));
    this.tabs = new Map();
    this.tabPanels = new Map();
    this.textInputs = new Map();
    for (const code of LANGUAGES) {
      const tab = el('button', {
        type: 'button', role: 'tab', class: 'tab', id: `knowledge-tab-${code}`, 'aria-controls': `knowledge-panel-${code}`,
        'aria-selected': 'false', tabindex: '-1', lang: code, 'data-testid': `knowledge-lang-${code}`,
        onclick: () => this.selectLanguage(code),
      });
      const dir = textDirection(code);
      const inputs = {
        title: el('input', { name: `title-${code}`, lang: code, dir, maxlength: '200', 'data-testid': `knowledge-title-${code}` }),
        summary: el('textarea', { name: `summary-${code}`, lang: code, dir, rows: '2', maxlength: '1000', 'data-testid': `knowledge-summary-${code}` }),
        body: el('textarea', { name: `body-${code}`, class: 'knowledge__markdown', lang: code, dir, rows: '10', 'data-testid': `knowledge-body-${code}` }),
        labels: { title: el('span'), summary: el('span'), body: el('span') },
        hint: el('small', { class: 'field__hint', id: `knowledge-body-hint-${code}` }),
        version: el('p', { class: 'knowledge__version' }),
      };
      inputs.body.setAttribute('aria-describedby', inputs.hint.id);
      inputs.body.addEventListener('input', () => this.schedulePreview());
      inputs.summaryField = el('label', { class: 'field' }, inputs.labels.summary, inputs.summary);
      const panel = el('div', {
        role: 'tabpanel', class: 'knowledge__panel', id: `knowledge-panel-${code}`, 'aria-labelledby': tab.id, hidden: true,
      },
      el('label', { class: 'field' }, inputs.labels.title, inputs.title),
      inputs.summaryField,
      el('label', { class: 'field' }, inputs.labels.body, inputs.body, inputs.hint),
      inputs.version);
      this.tabList.append(tab);
      this.tabs.set(code, tab);
      this.tabPanels.set(code, panel);
      this.textInputs.set(code, inputs);
    }
  }

  // ---- lifecycle ----

  start(user) {
    this.nav.hidden = !EDITOR_ROLES.has(user.role);
    this.retranslate();
  }

  setVisible(visible) {
    if (!visible) return;
    this.loadOptions();
    this.load();
  }

  async loadOptions() {
    if (this.optionsLoaded) return;
    try {
      const settings = await staffSettings();
      this.options = { districts: settings.districts || [], perspectives: settings.perspectives || [] };
      this.optionsLoaded = true;
    } catch (error) {
      showError(this.listError, knowledgeError(error));
    }
    this.fillChoices();
  }

  clear() {
    window.clearTimeout(this.previewTimer);
    this.items = [];
    this.list.replaceChildren();
    this.closeEditor();
    this.optionsLoaded = false;
    showError(this.listError, '');
  }

  // ---- the list ----

  choose(collection) {
    if (collection === this.collection) return;
    this.collection = collection;
    this.searchInput.value = '';
    this.items = [];
    this.closeEditor();
    this.retranslate();
    this.load();
  }

  renderKinds() {
    for (const [collection, button] of this.kindButtons) button.setAttribute('aria-pressed', String(collection === this.collection));
  }

  async load() {
    const collection = this.collection;
    showError(this.listError, '');
    try {
      const answer = await api.list(collection, this.searchInput.value.trim());
      if (collection !== this.collection) return;
      this.items = answer.items || [];
    } catch (error) {
      showError(this.listError, knowledgeError(error));
      return;
    }
    this.renderList();
  }

  renderList() {
    this.list.replaceChildren(...this.items.map((item) => this.renderItem(item)));
    this.empty.hidden = this.items.length > 0;
  }

  renderItem(item) {
    const shown = shownText(item);
    const badges = [
      el('span', { class: item.published ? 'badge badge--ok' : 'badge', text: t(item.published ? 'console.knowledge.published' : 'console.knowledge.draft') }),
    ];
    if (this.collection === 'articles') badges.push(el('span', { class: 'badge', text: t(`console.knowledge.audience.${item.audience}`) }));
    const current = this.current && this.current.id === item.id;
    return el('li', { class: 'knowledge__item' },
      el('button', {
        type: 'button',
        class: 'knowledge__item-button',
        'data-testid': 'knowledge-item',
        'data-item-id': item.id,
        'aria-current': current ? 'true' : null,
        onclick: () => this.open(item.id),
      },
      el('span', { class: 'knowledge__item-title', lang: shown.code, dir: 'auto', text: shown.title }),
      el('span', { class: 'knowledge__item-meta' }, ...badges,
        el('span', { class: 'knowledge__languages', text: (item.languages || []).join(' · ') }))));
  }

  // ---- the editor ----

  openNew() {
    this.current = null;
    this.showEditor();
    this.fill(null);
    this.selectLanguage('sv');
    this.editorHeading.focus();
  }

  async open(id) {
    showError(this.listError, '');
    let item;
    try {
      item = (await api.get(this.collection, id)).item;
    } catch (error) {
      showError(this.listError, knowledgeError(error));
      return;
    }
    this.current = item;
    this.showEditor();
    this.fill(item);
    this.selectLanguage(shownText(item).code);
    this.renderList();
    this.loadVersions();
    this.editorHeading.focus();
  }

  showEditor() {
    this.editing = true;
    this.editor.hidden = false;
    this.askDelete(false);
    showError(this.formError, '');
    this.status.textContent = '';
    const shape = SHAPES[this.collection];
    this.keyField.hidden = !shape.key;
    this.audienceField.hidden = !shape.audience;
    this.perspectivesField.hidden = !shape.perspectives;
    this.districtsField.hidden = !shape.districts;
    this.contactField.hidden = !shape.contact;
    this.previewSection.hidden = !shape.markdown;
    for (const inputs of this.textInputs.values()) inputs.summaryField.hidden = !shape.summary;
  }

  closeEditor() {
    window.clearTimeout(this.previewTimer);
    this.editing = false;
    this.current = null;
    this.editor.hidden = true;
    this.versionsList.replaceChildren();
  }

  /** Put an item (or nothing, for a new one) into the form. */
  fill(item) {
    this.keyInput.value = item?.key || '';
    this.keyInput.readOnly = false;
    this.audienceSelect.value = item?.audience || 'internal';
    this.fillChoices(item);
    for (const field of CONTACT_FIELDS) this.contactInputs[field].value = item?.contact?.[field] || '';
    for (const [code, inputs] of this.textInputs) {
      const text = item?.texts?.[code];
      inputs.title.value = text?.title || '';
      inputs.summary.value = text?.summary || '';
      inputs.body.value = text?.body || '';
      inputs.version.dataset.version = text ? String(text.version) : '';
      inputs.version.dataset.changedAt = text?.changed_at || '';
    }
    this.renderItemWords();
  }

  /** The perspective and district checkboxes, checked as the item (or the form, on a retranslation) has them. */
  fillChoices(item = undefined) {
    const checked = (box) => new Set([...box.querySelectorAll('input:checked')].map((input) => input.value));
    const perspectives = item !== undefined ? new Set(item?.perspectives || []) : checked(this.perspectivesBox);
    const districts = item !== undefined ? new Set(item?.districts || [ALL_DISTRICTS]) : checked(this.districtsBox);
    const box = (name, value, label, on) => el('label', { class: 'knowledge__check' },
      el('input', { type: 'checkbox', name, value, checked: on, 'data-testid': `knowledge-${name}-${value}` }), ' ', label);
    this.perspectivesBox.replaceChildren(...this.options.perspectives.map((id) => box(
      'perspective', id, labelFor('console.statistics.perspectives', id), perspectives.has(id))));
    this.districtsBox.replaceChildren(
      box('district', ALL_DISTRICTS, t('console.knowledge.districts_all'), districts.has(ALL_DISTRICTS)),
      ...this.options.districts.map((district) => box('district', district.id, district.name, districts.has(district.id))));
  }

  /** Words that depend on the item: the heading, its state, each language's version line. */
  renderItemWords() {
    const kind = KEY_OF[this.collection];
    const item = this.current;
    this.editorHeading.textContent = item
      ? t('console.knowledge.edit_heading', { title: shownText(item).title })
      : t(`console.knowledge.new_heading.${kind}`);
    this.stateBadge.textContent = item ? t(item.published ? 'console.knowledge.published' : 'console.knowledge.draft') : t('console.knowledge.unsaved');
    this.stateBadge.classList.toggle('badge--ok', Boolean(item?.published));
    this.publishButton.hidden = !item;
    this.deleteButton.hidden = !item;
    this.publishButton.textContent = t(item?.published ? 'console.knowledge.unpublish' : 'console.knowledge.publish');
    for (const inputs of this.textInputs.values()) {
      const { version, changedAt } = inputs.version.dataset;
      inputs.version.textContent = version
        ? t('console.knowledge.version_line', { version, time: localDateTime(changedAt) })
        : t('console.knowledge.no_text');
    }
  }

  selectLanguage(code, { focus = false } = {}) {
    this.activeLanguage = code;
    for (const [lang, tab] of this.tabs) {
      const active = lang === code;
      tab.setAttribute('aria-selected', String(active));
      tab.tabIndex = active ? 0 : -1;
      this.tabPanels.get(lang).hidden = !active;
    }
    if (focus) this.tabs.get(code).focus();
    this.schedulePreview(0);
  }

  onTabKey(event) {
    const index = LANGUAGES.indexOf(this.activeLanguage);
    const rtl = document.documentElement.dir === 'rtl';
    const moves = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, Home: -index, End: LANGUAGES.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.selectLanguage(LANGUAGES[(index + moves[event.key] + LANGUAGES.length) % LANGUAGES.length], { focus: true });
  }

  /** Ask the server to render the active language's body, a moment after the typing stops. */
  schedulePreview(delay = PREVIEW_DELAY_MS) {
    window.clearTimeout(this.previewTimer);
    if (!this.editing || !SHAPES[this.collection].markdown) return;
    this.previewTimer = window.setTimeout(() => this.renderPreview(), delay);
  }

  async renderPreview() {
    const code = this.activeLanguage;
    const seq = ++this.previewSeq;
    this.previewHeading.textContent = t('console.knowledge.preview', { language: languageLabel(code) });
    this.previewFrame.title = t('console.knowledge.preview', { language: languageLabel(code) });
    try {
      const { html } = await api.preview(this.textInputs.get(code).body.value);
      if (seq === this.previewSeq) showSanitised(this.previewFrame, html, code);
    } catch (error) {
      if (seq === this.previewSeq) showError(this.formError, knowledgeError(error));
    }
  }

  /** The item as the form holds it (docs/protocol.md, I); a language without any words is left out. */
  body() {
    const shape = SHAPES[this.collection];
    const texts = {};
    for (const [code, inputs] of this.textInputs) {
      const text = { title: inputs.title.value.trim(), summary: shape.summary ? inputs.summary.value : '', body: inputs.body.value };
      if (text.title || text.summary.trim() || text.body.trim()) texts[code] = text;
    }
    const body = { texts };
    if (shape.key) body.key = this.keyInput.value.trim();
    if (shape.audience) body.audience = this.audienceSelect.value;
    if (shape.perspectives) body.perspectives = [...this.perspectivesBox.querySelectorAll('input:checked')].map((i) => i.value);
    if (shape.districts) body.districts = [...this.districtsBox.querySelectorAll('input:checked')].map((i) => i.value);
    if (shape.contact) body.contact = Object.fromEntries(CONTACT_FIELDS.map((f) => [f, this.contactInputs[f].value.trim()]));
    return body;
  }

  /** A language with words but no title cannot be saved: its tab is shown with the reason. */
  untitled(body) {
    return LANGUAGES.find((code) => body.texts[code] && !body.texts[code].title);
  }

  async save() {
    showError(this.formError, '');
    const body = this.body();
    const untitled = this.untitled(body);
    if (untitled) {
      this.selectLanguage(untitled);
      showError(this.formError, t('console.knowledge.errors.missing_title'));
      this.textInputs.get(untitled).title.focus();
      return;
    }
    if (!this.current && Object.keys(body.texts).length === 0) {
      showError(this.formError, t('console.knowledge.errors.missing_text'));
      return;
    }
    await this.act(() => (this.current
      ? api.update(this.collection, this.current.id, body)
      : api.create(this.collection, body)), 'console.knowledge.saved');
  }

  togglePublished() {
    if (!this.current) return;
    const publish = !this.current.published;
    return this.act(() => api.setPublished(this.collection, this.current.id, publish),
      publish ? 'console.knowledge.published_now' : 'console.knowledge.unpublished_now');
  }

  /** Run one write, then show the item as the server now has it. */
  async act(write, doneKey) {
    for (const button of [this.saveButton, this.publishButton, this.deleteButton]) button.disabled = true;
    try {
      const { item } = await write();
      this.current = item;
      this.fill(item);
      this.status.textContent = t(doneKey);
      announce(t(doneKey));
      this.loadVersions();
      this.load();
    } catch (error) {
      showError(this.formError, knowledgeError(error));
    } finally {
      for (const button of [this.saveButton, this.publishButton, this.deleteButton]) button.disabled = false;
    }
  }

  askDelete(asking) {
    this.deleteRow.hidden = !asking;
    if (asking) this.deleteConfirm.focus();
  }

  async deleteItem() {
    if (!this.current) return;
    try {
      await api.remove(this.collection, this.current.id);
    } catch (error) {
      showError(this.formError, knowledgeError(error));
      return;
    }
    this.closeEditor();
    announce(t('console.knowledge.deleted'));
    this.load();
    this.newButton.focus();
  }

  // ---- versions ----

  async loadVersions() {
    const item = this.current;
    if (!item) return;
    let versions;
    try {
      versions = (await api.versions(this.collection, item.id)).versions || [];
    } catch (error) {
      showError(this.formError, knowledgeError(error));
      return;
    }
    if (this.current?.id !== item.id) return;
    this.versions = versions;
    this.renderVersions();
  }

  renderVersions() {
    const versions = this.current ? this.versions || [] : [];
    this.versionsList.replaceChildren(...versions.map((version) => el('li', { class: 'knowledge__version-item', 'data-testid': 'knowledge-version' },
      el('p', { class: 'knowledge__version-meta' },
        t('console.knowledge.version_entry', {
          language: languageLabel(version.language),
          version: version.version,
          name: version.changed_by_name || String(version.changed_by ?? ''),
          time: localDateTime(version.changed_at),
        })),
      el('details', {},
        el('summary', { text: t('console.knowledge.version_text') }),
        el('p', { class: 'knowledge__version-title', lang: version.language, dir: 'auto', text: version.title }),
        version.summary ? el('p', { lang: version.language, dir: 'auto', text: version.summary }) : null,
        el('pre', { class: 'knowledge__version-body', lang: version.language, dir: 'auto', text: version.body })))));
    this.versionsEmpty.hidden = versions.length > 0;
  }

  // ---- words ----

  retranslate() {
    this.heading.textContent = t('console.knowledge.heading');
    this.intro.textContent = t('console.knowledge.intro');
    this.kindGroup.setAttribute('aria-label', t('console.knowledge.kinds_label'));
    for (const [collection, button] of this.kindButtons) button.textContent = t(`console.knowledge.kinds.${KEY_OF[collection]}`);
    this.renderKinds();
    this.searchLabel.textContent = t('console.knowledge.search_label');
    this.searchButton.textContent = t('console.knowledge.search');
    this.newButton.textContent = t(`console.knowledge.new.${KEY_OF[this.collection]}`);
    this.listHeading.textContent = t(`console.knowledge.kinds.${KEY_OF[this.collection]}`);
    this.empty.textContent = t('console.knowledge.empty');
    this.keyLabel.textContent = t('console.knowledge.key');
    this.audienceLabel.textContent = t('console.knowledge.audience_label');
    const audience = this.audienceSelect.value || 'internal';
    this.audienceSelect.replaceChildren(...['internal', 'public'].map((id) => new Option(t(`console.knowledge.audience.${id}`), id)));
    this.audienceSelect.value = audience;
    this.perspectivesLegend.textContent = t('console.knowledge.perspectives');
    this.districtsLegend.textContent = t('console.knowledge.districts');
    this.contactLegend.textContent = t('console.knowledge.contact');
    for (const field of CONTACT_FIELDS) this.contactLabels[field].textContent = t(`console.knowledge.contact_fields.${field}`);
    this.tabList.setAttribute('aria-label', t('console.knowledge.languages_label'));
    const kind = KEY_OF[this.collection];
    for (const [code, tab] of this.tabs) {
      tab.textContent = languageLabel(code);
      const inputs = this.textInputs.get(code);
      inputs.labels.title.textContent = t(`console.knowledge.title.${kind}`);
      inputs.labels.summary.textContent = t(`console.knowledge.summary.${kind}`);
      inputs.labels.body.textContent = t(`console.knowledge.body.${kind}`);
      inputs.hint.textContent = t(`console.knowledge.body_hint.${kind}`);
    }
    this.previewHeading.textContent = t('console.knowledge.preview', { language: languageLabel(this.activeLanguage) });
    this.previewFrame.title = this.previewHeading.textContent;
    this.saveButton.textContent = t('console.knowledge.save');
    this.deleteButton.textContent = t('console.knowledge.delete');
    this.closeButton.textContent = t('console.knowledge.close');
    this.deleteQuestion.textContent = t('console.knowledge.delete_question');
    this.deleteConfirm.textContent = t('console.knowledge.delete_confirm');
    this.deleteCancel.textContent = t('common.cancel');
    this.versionsHeading.textContent = t('console.knowledge.versions');
    this.versionsEmpty.textContent = t('console.knowledge.versions_empty');
    this.fillChoices();
    this.renderItemWords();
    this.renderVersions();
    this.renderList();
  }
}
