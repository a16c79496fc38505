// Claiming a conversation whose relative is away asks first: they may not see the reply.
// Cancel, Esc or a closed dialog leaves the conversation in the queue.
export class AwayConfirm {
  constructor(dialog) {
    this.dialog = dialog;
    for (const button of dialog.querySelectorAll('button[value]')) {
      button.addEventListener('click', () => dialog.close(button.value));
    }
  }

  /** Resolves true when the counsellor chooses to claim; focus goes back to `opener`. */
  ask(opener) {
    if (this.dialog.open) return Promise.resolve(false);
    this.dialog.returnValue = '';
    return new Promise((resolve) => {
      this.dialog.addEventListener('close', () => {
        if (opener?.isConnected) opener.focus();
        resolve(this.dialog.returnValue === 'claim');
      }, { once: true });
      this.dialog.showModal();
    });
  }

  cancel() {
    if (this.dialog.open) this.dialog.close('cancel');
  }
}
