// Rendering of messages and notes, shared by live conversations and the read-only history.
// Text is always set with textContent: a message is never HTML.
import { t } from '/shared/i18n.js';
import { el, formatDateTime, formatTime } from './dom.js';

const SENDERS = new Set(['relative', 'counsellor', 'bot', 'system']);

export function renderMessage(message) {
  const sender = SENDERS.has(message.sender) ? message.sender : 'system';
  return el(
    'li',
    {
      class: `message message--${sender}`,
      'data-testid': 'message',
      'data-sender': sender,
      'data-seq': message.seq,
    },
    el(
      'p',
      { class: 'message__meta' },
      el('span', { class: 'message__sender', 'data-i18n': `console.sender.${sender}`, text: t(`console.sender.${sender}`) }),
      ' ',
      el('time', { class: 'message__time', datetime: message.sent_at, text: formatTime(message.sent_at) }),
    ),
    el('p', { class: 'message__text', dir: 'auto', text: message.text }),
  );
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

function authorName(author) {
  if (author && typeof author === 'object') return author.display_name || author.username || '';
  return author === null || author === undefined ? '' : String(author);
}

export function renderNote(note) {
  return el(
    'li',
    { class: 'note', 'data-note-id': note.id },
    el(
      'p',
      { class: 'note__meta' },
      el('span', { class: 'note__author', text: authorName(note.author) }),
      ' ',
      el('time', { class: 'note__time', datetime: note.created_at, text: formatDateTime(note.created_at) }),
    ),
    el('p', { class: 'note__text', dir: 'auto', text: note.text }),
  );
}
