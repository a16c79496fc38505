// Fitting the relative's page to a phone: the visible height (the on-screen keyboard takes part of it), the top
// bar's height for dialogs to stay clear of, and quick exit that still works while a modal dialog is open.

import { el } from '/shared/dom.js';
import { translateDom } from '/shared/i18n.js';

const root = document.documentElement;

/**
 * --visible-block-size follows window.visualViewport, for browsers that shrink only the visual viewport when the
 * keyboard opens (the meta viewport's interactive-widget=resizes-content does it for the others). Left alone while
 * the page is pinch-zoomed, where the visual viewport is not the page's height.
 */
export function trackVisibleHeight() {
  const viewport = window.visualViewport;
  if (!viewport) return;
  const update = () => {
    if (Math.abs(viewport.scale - 1) > 0.01) return;
    root.style.setProperty('--visible-block-size', `${Math.round(viewport.height)}px`);
  };
  viewport.addEventListener('resize', update);
  update();
}

/** --topbar-block-size: modal dialogs are centred below the top bar, so quick exit never covers their controls. */
export function trackTopbarHeight(topbar) {
  const update = () => root.style.setProperty('--topbar-block-size', `${Math.ceil(topbar.getBoundingClientRect().height)}px`);
  new ResizeObserver(update).observe(topbar);
  update();
}

/**
 * A modal dialog makes everything outside it inert, quick exit included, while the top bar's button stays visible
 * under the backdrop. So every dialog carries a quick exit of its own, placed exactly over the top bar's while the
 * dialog is open: whatever the relative sees there leaves in one tap. It comes last in the dialog, so opening a
 * dialog never puts the keyboard focus on it.
 */
export function keepQuickExitOverDialogs(topButton, onExit) {
  const place = (button) => {
    const box = topButton.getBoundingClientRect();
    for (const [name, value] of Object.entries({ top: box.top, left: box.left, width: box.width, height: box.height })) {
      button.style.setProperty(name, `${value}px`);
    }
  };
  const guard = (dialog) => {
    if (dialog.querySelector(':scope > .dialog-quick-exit')) return;
    const button = el('button', {
      type: 'button', class: 'quick-exit dialog-quick-exit', 'data-testid': 'dialog-quick-exit', onclick: onExit,
    }, el('span', { i18n: 'widget.quick_exit' }));
    translateDom(button);
    dialog.append(button);
    new MutationObserver(() => { if (dialog.open) place(button); }).observe(dialog, { attributes: true, attributeFilter: ['open'] });
    if (dialog.open) place(button);
  };
  const guardAll = () => document.querySelectorAll('dialog').forEach(guard);
  new MutationObserver(guardAll).observe(document.body, { childList: true });
  window.addEventListener('resize', () => document.querySelectorAll('dialog[open] > .dialog-quick-exit').forEach(place));
  guardAll();
}
