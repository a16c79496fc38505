// Everyone's "Password" section of the security view: change one's own password (the current one
// is required; the server ends one's other sessions) and make new recovery codes with a current
// authenticator code (the old codes stop working; the new ones are shown this once).
import { t } from '/shared/i18n.js';
import { staffRequest } from './api.js';
import { el, showError } from '/shared/dom.js';
import { announce, errorText } from './dom.js';

const part = (root, id) => root.querySelector(`[data-testid="${id}"]`);

export class PasswordView {
  constructor({ root }) {
    this.root = root;
    this.parts = {
      form: part(root, 'password-form'),
      error: part(root, 'password-error'),
      done: part(root, 'password-done'),
      codesForm: part(root, 'recovery-form'),
      codesError: part(root, 'recovery-error'),
      codesBox: part(root, 'recovery-new'),
      codes: part(root, 'recovery-new-codes'),
      codesSection: part(root, 'recovery-section'),
      section: part(root, 'password-section'),
    };
    this.parts.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.change();
    });
    this.parts.codesForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.newCodes();
    });
  }

  setAvailable(available) {
    this.parts.section.hidden = !available;
  }

  /** The recovery-code form only makes sense with two-factor sign-in on. */
  setTotpEnabled(enabled) {
    this.parts.codesSection.hidden = !enabled;
  }

  async change() {
    const { form, error, done } = this.parts;
    showError(error, '');
    done.hidden = true;
    const current = form.elements.current_password.value;
    const next = form.elements.new_password.value;
    if (!current || !next) {
      showError(error, t('console.password.missing'));
      return;
    }
    if (next !== form.elements.repeat_password.value) {
      showError(error, t('console.password.mismatch'));
      return;
    }
    try {
      await staffRequest('POST', '/api/auth/password', { current_password: current, new_password: next });
      form.reset();
      done.hidden = false;
      announce(t('console.password.changed'));
    } catch (failure) {
      showError(error, errorText(failure.code));
    }
  }

  async newCodes() {
    const { codesForm, codesError, codesBox, codes } = this.parts;
    showError(codesError, '');
    const code = codesForm.elements.code.value.replace(/\s/g, '');
    if (!code) {
      showError(codesError, t('console.errors.totp_invalid_code'));
      return;
    }
    try {
      const { recovery_codes: fresh } = await staffRequest('POST', '/api/auth/totp/recovery-codes', { code });
      codesForm.reset();
      codes.replaceChildren(...fresh.map((recovery) => el('li', { text: recovery })));
      codesBox.hidden = false;
    } catch (failure) {
      showError(codesError, errorText(failure.code));
    }
  }

  clear() {
    this.parts.form.reset();
    this.parts.codesForm.reset();
    this.parts.codes.replaceChildren();
    this.parts.codesBox.hidden = true;
    this.parts.done.hidden = true;
    showError(this.parts.error, '');
    showError(this.parts.codesError, '');
  }
}
