// Rendering of messages and notes, shared by live conversations and the read-only history.
// Text is always set with textContent: a message is never HTML.
import { t } from '/shared/i18n.js';
import { el } from '/shared/dom.js';
import { localDateTime, localTime } from '/shared/format.js';
import { messageText, resourceCard, senderOf } from '/shared/messages.js';

export function renderMessage(message) {
  const sender = senderOf(message);
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
      el('time', { class: 'message__time', datetime: message.sent_at, text: localTime(message.sent_at) }),
    ),
    // A resource sent from the knowledge bank shows as the card the relative sees (text is its plain form).
    message.resource && typeof message.resource === 'object'
      ? resourceCard(message.resource, t)
      : messageText('message__text', message.text),
  );
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
      el('time', { class: 'note__time', datetime: note.created_at, text: localDateTime(note.created_at) }),
    ),
    messageText('note__text', note.text),
  );
}
