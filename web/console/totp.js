// The "Two-factor sign-in" panel: status, enrolling (QR code drawn by the server, the key as text,
// a code to confirm) and the recovery codes, shown once. When the server requires TOTP and this
// account has none, the console shows only this panel until it is done.
import { t } from '/shared/i18n.js';
import * as api from './api.js';
import { el, showError } from '/shared/dom.js';
import { errorText } from './dom.js';

const part = (root, id) => root.querySelector(`[data-testid="${id}"]`);

export class TotpView {
  /**
   * onEnrolled() runs after a required enrollment is confirmed and the codes were saved;
   * onStatus(status) after every reading of the status.
   */
  constructor({ root, onEnrolled, onStatus = () => {} }) {
    this.root = root;
    this.onEnrolled = onEnrolled;
    this.onStatus = onStatus;
    this.status = null;
    this.required = false;
    this.parts = {
      notice: part(root, 'totp-required-notice'),
      status: part(root, 'totp-status'),
      error: part(root, 'totp-error'),
      start: part(root, 'totp-start'),
      enroll: part(root, 'totp-enroll'),
      qr: part(root, 'totp-qr'),
      secret: part(root, 'totp-secret'),
      form: part(root, 'totp-confirm-form'),
      code: part(root, 'totp-code'),
      recovery: part(root, 'totp-recovery'),
      codes: part(root, 'totp-recovery-codes'),
      done: part(root, 'totp-done'),
    };
    this.parts.start.addEventListener('click', () => this.start());
    this.parts.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.confirm();
    });
    this.parts.done.addEventListener('click', () => this.finish());
  }

  /** Reads the status; true when this session may only enroll. */
  async load() {
    this.status = await api.totpStatus();
    this.required = this.status.required && !this.status.enabled;
    this.onStatus(this.status);
    this.render();
    return this.required;
  }

  /** Reads the status again for the panel, showing a failure in it. */
  async refresh() {
    try {
      await this.load();
    } catch (error) {
      showError(this.parts.error, errorText(error.code));
    }
  }

  render() {
    const { notice, status, start } = this.parts;
    notice.hidden = !this.required;
    if (!this.status) return;
    status.textContent = this.status.enabled
      ? t('console.totp.status_on', { count: this.status.recovery_codes_left })
      : t('console.totp.status_off');
    start.hidden = this.status.enabled || !this.parts.enroll.hidden || !this.parts.recovery.hidden;
  }

  retranslate() {
    this.render();
  }

  clear() {
    this.status = null;
    this.required = false;
    this.parts.enroll.hidden = true;
    this.parts.recovery.hidden = true;
    this.parts.secret.textContent = '';
    this.parts.qr.removeAttribute('src');
    this.parts.codes.replaceChildren();
    this.parts.status.textContent = '';
    showError(this.parts.error, '');
  }

  async start() {
    showError(this.parts.error, '');
    try {
      const enrollment = await api.startTotpEnrollment();
      this.parts.qr.src = enrollment.qr_svg;
      this.parts.secret.textContent = enrollment.secret.replace(/(.{4})(?=.)/g, '$1 ');
      this.parts.enroll.hidden = false;
      this.render();
      this.parts.code.focus();
    } catch (error) {
      showError(this.parts.error, errorText(error.code));
    }
  }

  async confirm() {
    showError(this.parts.error, '');
    const code = this.parts.code.value.trim();
    if (!code) {
      showError(this.parts.error, t('console.errors.totp_invalid_code'));
      return;
    }
    try {
      const { recovery_codes: codes } = await api.confirmTotpEnrollment(code);
      this.parts.form.reset();
      this.parts.enroll.hidden = true;
      this.parts.secret.textContent = '';
      this.parts.qr.removeAttribute('src');
      this.parts.codes.replaceChildren(...codes.map((recovery) => el('li', { text: recovery })));
      this.parts.recovery.hidden = false;
      this.parts.done.focus();
    } catch (error) {
      showError(this.parts.error, errorText(error.code));
    }
  }

  async finish() {
    const wasRequired = this.required;
    this.parts.recovery.hidden = true;
    this.parts.codes.replaceChildren();
    await this.load();
    if (wasRequired) this.onEnrolled();
  }
}
