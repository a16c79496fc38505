// The admins' "Accounts" view: every staff account (role, route, two-factor on or off, last
// sign-in, disabled), adding one (the one-time setup link is shown once, with a copy button),
// changing someone's role and route, disabling or enabling, a password reset (a new link) and a
// two-factor reset. The server ends the account's sessions and sockets for every change but
// enabling; nobody changes their own account here (the server refuses it too). Below the list, the
// Retention section (retention.js).
import { t } from '/shared/i18n.js';
import { staffRequest } from './api.js';
import { el, showError } from '/shared/dom.js';
import { localDateTime } from '/shared/format.js';
import { announce, errorText, labelFor } from './dom.js';
import { RetentionSection } from './retention.js';

export const ACCOUNT_ROLES = new Set(['admin']);
const ROLES = ['counsellor', 'supervisor', 'admin', 'social_services', 'coordinator'];
const PATH = '/api/staff/accounts';
const accountPath = (username, tail = '') => `${PATH}/${encodeURIComponent(username)}${tail}`;

function roleSelect(name, testid) {
  return el('select', { name, 'data-testid': testid }, ...ROLES.map((role) => el('option', { value: role })));
}

function fillRoles(select) {
  for (const option of select.options) option.textContent = labelFor('console.accounts.roles', option.value);
}

export class AccountsView {
  constructor({ root, nav }) {
    this.root = root;
    this.nav = nav;
    this.user = null;
    this.accounts = null;
    this.editing = null;
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'accounts-heading' });
    this.intro = el('p', { class: 'accounts__intro' });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'accounts-error' });

    this.addHeading = el('h3', { id: 'accounts-add-heading' });
    this.addForm = el('form', { class: 'accounts__form', novalidate: true, 'aria-labelledby': 'accounts-add-heading', 'data-testid': 'accounts-add-form' });
    this.addFields = {
      username: el('input', { name: 'username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64', required: true, 'data-testid': 'accounts-add-username' }),
      display_name: el('input', { name: 'display_name', autocomplete: 'off', maxlength: '128', 'data-testid': 'accounts-add-display-name' }),
      role: roleSelect('role', 'accounts-add-role'),
      route: el('input', { name: 'route', autocomplete: 'off', spellcheck: 'false', maxlength: '64', 'data-testid': 'accounts-add-route' }),
    };
    this.addLabels = {};
    for (const [key, input] of Object.entries(this.addFields)) {
      this.addLabels[key] = el('span');
      this.addForm.append(el('label', { class: 'field' }, this.addLabels[key], input));
    }
    this.addSubmit = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'accounts-add-submit' });
    this.addForm.append(this.addSubmit);
    this.addForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.add();
    });
    this.addFields.role.addEventListener('change', () => this.renderRouteField(this.addFields));

    this.linkBox = el('section', { class: 'accounts__link', hidden: true, 'data-testid': 'accounts-link', 'aria-labelledby': 'accounts-link-heading' });
    this.linkHeading = el('h3', { id: 'accounts-link-heading', tabindex: '-1' });
    this.linkText = el('p');
    this.linkLabel = el('span');
    this.linkInput = el('input', { readonly: true, 'data-testid': 'accounts-link-url', spellcheck: 'false' });
    this.copyButton = el('button', { type: 'button', class: 'button', 'data-testid': 'accounts-link-copy', onclick: () => this.copyLink() });
    this.doneButton = el('button', { type: 'button', class: 'button button--quiet', 'data-testid': 'accounts-link-done', onclick: () => this.hideLink() });
    this.linkBox.append(this.linkHeading, this.linkText, el('label', { class: 'field' }, this.linkLabel, this.linkInput), el('div', { class: 'accounts__actions' }, this.copyButton, this.doneButton));

    this.editBox = el('form', { class: 'accounts__form accounts__edit', hidden: true, novalidate: true, 'data-testid': 'accounts-edit-form', 'aria-labelledby': 'accounts-edit-heading' });
    this.editHeading = el('h3', { id: 'accounts-edit-heading', tabindex: '-1' });
    this.editFields = { role: roleSelect('role', 'accounts-edit-role'), route: el('input', { name: 'route', maxlength: '64', spellcheck: 'false', 'data-testid': 'accounts-edit-route' }) };
    this.editLabels = { role: el('span'), route: el('span') };
    this.editSave = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'accounts-edit-save' });
    this.editCancel = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.stopEditing() });
    this.editNotice = el('p', { class: 'accounts__notice' });
    this.editBox.append(this.editHeading, this.editNotice,
      el('label', { class: 'field' }, this.editLabels.role, this.editFields.role),
      el('label', { class: 'field' }, this.editLabels.route, this.editFields.route),
      el('div', { class: 'accounts__actions' }, this.editSave, this.editCancel));
    this.editBox.addEventListener('submit', (event) => {
      event.preventDefault();
      this.saveEdit();
    });
    this.editFields.role.addEventListener('change', () => this.renderRouteField(this.editFields));

    this.listHeading = el('h3', { id: 'accounts-list-heading' });
    this.refreshButton = el('button', { type: 'button', class: 'button button--quiet', onclick: () => this.loadAccounts() });
    this.body = el('div', { class: 'accounts__list' });
    this.retention = new RetentionSection();
    this.root.replaceChildren(this.heading, this.intro, this.error, this.linkBox, this.editBox,
      this.addHeading, this.addForm, el('div', { class: 'accounts__list-head' }, this.listHeading, this.refreshButton), this.body,
      this.retention.root);
  }

  /** Shows the view's nav button to admins only. */
  start(user) {
    this.user = user;
    this.nav.hidden = !ACCOUNT_ROLES.has(user.role);
    this.retranslate();
  }

  renderRouteField(fields) {
    const social = fields.role.value === 'social_services';
    fields.route.closest('label').hidden = !social;
    if (!social) fields.route.value = '';
  }

  /** The accounts list and the Retention section. */
  load() {
    return Promise.all([this.loadAccounts(), this.retention.load()]);
  }

  async loadAccounts() {
    showError(this.error, '');
    try {
      this.accounts = (await staffRequest('GET', PATH)).accounts || [];
    } catch (error) {
      this.accounts = null;
      this.body.replaceChildren();
      showError(this.error, errorText(error.code));
      return;
    }
    this.render();
  }

  async act(method, path, body, done) {
    showError(this.error, '');
    try {
      const answer = await staffRequest(method, path, body);
      await done(answer);
    } catch (error) {
      showError(this.error, errorText(error.code));
    }
    await this.loadAccounts();
  }

  add() {
    const value = (key) => this.addFields[key].value.trim();
    if (!value('username')) {
      showError(this.error, t('console.accounts.username_missing'));
      this.addFields.username.focus();
      return;
    }
    const body = { username: value('username'), role: this.addFields.role.value };
    if (value('display_name')) body.display_name = value('display_name');
    if (value('route')) body.route = value('route');
    return this.act('POST', PATH, body, (answer) => {
      this.addForm.reset();
      this.renderRouteField(this.addFields);
      this.showLink(answer.user.username, answer.setup, 'added');
    });
  }

  showLink(username, setup, kind) {
    this.linkHeading.textContent = t(`console.accounts.link_${kind}`, { name: username });
    this.linkText.textContent = t('console.accounts.link_notice', { when: localDateTime(setup.expires_at) });
    this.linkInput.value = setup.url;
    this.linkBox.hidden = false;
    this.linkHeading.focus();
  }

  hideLink() {
    this.linkInput.value = '';
    this.linkBox.hidden = true;
  }

  async copyLink() {
    this.linkInput.select();
    try {
      await navigator.clipboard.writeText(this.linkInput.value);
      announce(t('console.accounts.copied'));
    } catch {
      announce(t('console.accounts.copy_by_hand'));
    }
  }

  startEditing(account) {
    this.editing = account;
    this.editHeading.textContent = t('console.accounts.edit_heading', { name: account.username });
    this.editFields.role.value = account.role;
    this.editFields.route.value = account.route || '';
    this.renderRouteField(this.editFields);
    this.editBox.hidden = false;
    this.editHeading.focus();
  }

  stopEditing() {
    this.editing = null;
    this.editBox.hidden = true;
  }

  saveEdit() {
    const account = this.editing;
    if (!account) return;
    const body = { role: this.editFields.role.value, route: this.editFields.route.value.trim() || null };
    return this.act('PATCH', accountPath(account.username), body, () => {
      this.stopEditing();
      announce(t('console.accounts.saved', { name: account.username }));
    });
  }

  setActive(account, active) {
    if (!active && !window.confirm(t('console.accounts.confirm_disable', { name: account.username }))) return;
    return this.act('PATCH', accountPath(account.username), { active }, () =>
      announce(t(active ? 'console.accounts.enabled_done' : 'console.accounts.disabled_done', { name: account.username })));
  }

  resetPassword(account) {
    if (!window.confirm(t('console.accounts.confirm_password_reset', { name: account.username }))) return;
    return this.act('POST', accountPath(account.username, '/password-reset'), undefined,
      (answer) => this.showLink(account.username, answer.setup, 'reset'));
  }

  resetTotp(account) {
    if (!window.confirm(t('console.accounts.confirm_totp_reset', { name: account.username }))) return;
    return this.act('DELETE', accountPath(account.username, '/totp'), undefined,
      () => announce(t('console.accounts.totp_reset_done', { name: account.username })));
  }

  render() {
    if (!this.accounts) return;
    const words = (key, params) => t(`console.accounts.${key}`, params);
    const columns = ['username', 'display_name', 'role', 'route', 'totp', 'last_login', 'status', 'actions'];
    const head = el('tr', {}, ...columns.map((key) => el('th', { scope: 'col', text: words(`columns.${key}`) })));
    const rows = this.accounts.map((account) => {
      const own = this.user && account.id === this.user.id;
      const button = (key, handler, extra = {}) => el('button', {
        type: 'button', class: 'button button--small', onclick: handler, 'data-testid': `account-${key}`,
        'aria-label': words(`${key}_label`, { name: account.username }), ...extra,
      }, words(key));
      const actions = own
        ? el('td', { class: 'accounts__own', text: words('own_account') })
        : el('td', { class: 'accounts__row-actions' },
          button('edit', () => this.startEditing(account)),
          account.active
            ? button('disable', () => this.setActive(account, false), { class: 'button button--small button--danger' })
            : button('enable', () => this.setActive(account, true)),
          button('password_reset', () => this.resetPassword(account)),
          account.totp_enabled ? button('totp_reset', () => this.resetTotp(account)) : null);
      return el('tr', { 'data-testid': 'account-row', 'data-username': account.username },
        el('td', { class: 'accounts__username', text: account.username }),
        el('td', { text: account.display_name, dir: 'auto' }),
        el('td', { text: labelFor('console.accounts.roles', account.role) }),
        el('td', { text: account.route || '—' }),
        el('td', { text: words(account.totp_enabled ? 'totp_on' : 'totp_off') }),
        el('td', { text: account.last_login_at ? localDateTime(account.last_login_at) : words('never') }),
        el('td', {}, el('span', {
          class: `pill ${account.active ? 'pill--ok' : 'pill--off'}`, 'data-testid': 'account-status',
          text: words(account.active ? 'active' : 'disabled'),
        })),
        actions);
    });
    this.body.replaceChildren(el('table', { class: 'audit accounts__table', 'data-testid': 'accounts-table', 'aria-labelledby': 'accounts-list-heading' },
      el('thead', {}, head), el('tbody', {}, ...rows)));
  }

  retranslate() {
    const words = (key) => t(`console.accounts.${key}`);
    this.heading.textContent = words('heading');
    this.intro.textContent = words('intro');
    this.addHeading.textContent = words('add_heading');
    for (const key of Object.keys(this.addFields)) this.addLabels[key].textContent = words(`fields.${key}`);
    this.addSubmit.textContent = words('add_submit');
    this.linkLabel.textContent = words('link_label');
    this.copyButton.textContent = words('copy');
    this.doneButton.textContent = words('link_done');
    this.editLabels.role.textContent = words('fields.role');
    this.editLabels.route.textContent = words('fields.route');
    this.editSave.textContent = words('save');
    this.editCancel.textContent = t('common.cancel');
    this.editNotice.textContent = words('edit_notice');
    this.listHeading.textContent = words('list_heading');
    this.refreshButton.textContent = words('refresh');
    fillRoles(this.addFields.role);
    fillRoles(this.editFields.role);
    this.renderRouteField(this.addFields);
    if (this.editing) this.editHeading.textContent = t('console.accounts.edit_heading', { name: this.editing.username });
    this.retention.retranslate();
    this.render();
  }

  clear() {
    this.user = null;
    this.accounts = null;
    this.stopEditing();
    this.hideLink();
    this.body.replaceChildren();
    this.retention.clear();
    showError(this.error, '');
  }
}
