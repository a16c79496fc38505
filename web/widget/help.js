// The page "Information and help" works without this file: its quick exit is a plain link. With
// JavaScript, quick exit also clears this tab's storage and replaces the page in the history, as on
// the chat page, and Esc twice leaves too.

const DOUBLE_ESCAPE_MS = 1500;

const exit = document.getElementById('quick-exit');
let lastEscape = 0;

function leave(event) {
  event?.preventDefault();
  const target = exit.href;
  try {
    sessionStorage.clear();
    localStorage.clear();
  } catch {
    // Storage can be unavailable (private modes); leaving still works.
  }
  document.title = '';
  document.body.replaceChildren();
  location.replace(target);
}

exit.addEventListener('click', leave);
document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  const now = Date.now();
  if (now - lastEscape <= DOUBLE_ESCAPE_MS) leave();
  else lastEscape = now;
});
