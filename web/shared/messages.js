// What the relative's message list and the console's transcripts share: who a sender is, the text
// element (always textContent, always dir="auto" so Arabic and Swedish lines each run their own way),
// and the order by seq.

const SENDERS = new Set(['relative', 'counsellor', 'bot', 'system']);

/** The sender of a message, or 'system' for one this page does not know. */
export function senderOf(message) {
  return SENDERS.has(message.sender) ? message.sender : 'system';
}

/** The paragraph that holds a message's or a note's text. */
export function messageText(className, text) {
  const body = document.createElement('p');
  body.className = className;
  body.dir = 'auto';
  body.textContent = text;
  return body;
}

/**
 * Insert a message element into a list ordered by data-seq (nearly always an append).
 * Elements without a seq (messages still being sent) stay last.
 */
export function insertBySeq(list, element, seq) {
  let after = list.lastElementChild;
  while (after && (!after.dataset.seq || Number(after.dataset.seq) > seq)) after = after.previousElementSibling;
  if (after) after.after(element);
  else list.prepend(element);
}

const WEB_SCHEMES = new Set(['https:', 'http:']);

/** A web address the card may link to: an absolute http(s) URL, else null (then shown as text). */
function safeWebUrl(value) {
  try {
    const url = new URL(value);
    return WEB_SCHEMES.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * A resource card (a message's optional `resource`, docs/protocol.md): title, summary and the
 * contact lines that are filled. Built with textContent only; labels carry data-i18n so a change of
 * language relabels them. The phone becomes a tel: link of its digits, the web address a link only
 * when it is http(s).
 */
export function resourceCard(resource, t) {
  const card = document.createElement('section');
  card.className = 'resource-card';
  card.dataset.testid = 'resource-card';
  card.setAttribute('aria-label', t('widget.resource_label'));
  const title = document.createElement('p');
  title.className = 'resource-title';
  title.dir = 'auto';
  title.textContent = String(resource.title ?? '');
  card.append(title);
  if (resource.summary) card.append(messageText('resource-summary', String(resource.summary)));
  const contact = resource.contact ?? {};
  const lines = document.createElement('dl');
  lines.className = 'resource-contact';
  for (const [field, key] of [
    ['phone', 'widget.resource_phone'],
    ['url', 'widget.resource_web'],
    ['address', 'widget.resource_address'],
    ['hours', 'widget.resource_hours'],
  ]) {
    const value = typeof contact[field] === 'string' ? contact[field] : '';
    if (!value) continue;
    const label = document.createElement('dt');
    label.dataset.i18n = key;
    label.textContent = t(key);
    const detail = document.createElement('dd');
    detail.dir = 'auto';
    let target = null;
    if (field === 'phone') target = `tel:${value.replace(/[^0-9+]/g, '')}`;
    if (field === 'url') target = safeWebUrl(value);
    if (target) {
      const link = document.createElement('a');
      link.href = target;
      link.rel = 'noopener noreferrer';
      link.textContent = value;
      detail.append(link);
    } else {
      detail.textContent = value;
    }
    lines.append(label, detail);
  }
  if (lines.childElementCount) card.append(lines);
  return card;
}
