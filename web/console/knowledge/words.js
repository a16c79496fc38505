// What the editor and the conversation's panel share: words for a refusal, and which text an item shows.
import { language, tOr } from '/shared/i18n.js';
import { errorText } from '../dom.js';

/** Words for a refusal of the knowledge routes: the editor's own first, then the console's. */
export function knowledgeError(error) {
  return tOr(`console.knowledge.errors.${error?.code}`, errorText(error?.code));
}

/** The text an item shows in a list: the console's language, else Swedish, English, the first. */
export function shownText(item, preferred = language()) {
  const texts = item.texts || {};
  const code = [preferred, 'sv', 'en', ...Object.keys(texts)].find((c) => texts[c]);
  return code ? { code, ...texts[code] } : { code: 'sv', title: '', summary: '', body: '', body_html: '' };
}
