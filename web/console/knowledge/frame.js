// Server-rendered HTML of the knowledge bank (a Markdown body rendered by markdown-it-py and cleaned by
// nh3: body_html, or the answer of POST /api/staff/knowledge/preview) shown inside a sandboxed frame.
// The frame has no scripts, no same-origin access and the page's CSP, so even HTML that slipped past
// the sanitiser could do nothing but show. Nothing else is ever put into it, and nothing is parsed
// as HTML in the console page itself.
import { el } from '/shared/dom.js';
import { textDirection } from '../dom.js';

const STYLESHEET = '/console/knowledge/frame.css';
const LANGUAGE_CODE = /^[a-z]{2,3}$/;

/** An iframe for sanitised HTML; `title` names it for assistive technology. */
export function sanitisedFrame(title, testid) {
  return el('iframe', {
    class: 'knowledge-frame',
    sandbox: '',
    title,
    'data-testid': testid,
    referrerpolicy: 'no-referrer',
  });
}

/** Show the server's sanitised HTML of a text in `code` (a language of the bank) in the frame. */
export function showSanitised(frame, html, code) {
  const lang = LANGUAGE_CODE.test(code) ? code : 'sv';
  frame.srcdoc = `<!doctype html><html lang="${lang}" dir="${textDirection(lang)}"><head><meta charset="utf-8">`
    + `<link rel="stylesheet" href="${STYLESHEET}"></head><body>${html}</body></html>`;
}
