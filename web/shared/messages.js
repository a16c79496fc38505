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
