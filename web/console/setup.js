// The setup page: a member of staff opens the one-time link an admin gave them and chooses their
// password. The link's secret is in the URL fragment (never sent to a server, never in a Referer);
// it is taken out of the address bar at once and kept in this page's memory only.
import { languageNames, setLanguage, t, translateDom } from '/shared/i18n.js';
import { request } from '/shared/api.js';
import { showError } from '/shared/dom.js';
import { errorText } from './dom.js';

const LANGUAGES = ['sv', 'en'];
const LANGUAGE_KEY = 'kinline.console.language';
const part = (id) => document.querySelector(`[data-testid="${id}"]`);
const form = part('setup-form');
const greeting = part('setup-greeting');
const error = part('setup-error');

const token = new URLSearchParams(window.location.hash.slice(1)).get('token') || '';
window.history.replaceState(null, '', window.location.pathname);
let account = null;

const call = (path, body) => request('POST', path, body, {
  credentials: 'same-origin', accept: 'application/json', fallbackCode: (status) => (status === 0 ? 'offline' : `http_${status}`),
});

function render() {
  document.title = t('console.setup.heading');
  translateDom(document);
  greeting.textContent = account ? t('console.setup.greeting', { name: account.display_name, username: account.username }) : '';
}

async function inspect() {
  if (!token) {
    showError(error, errorText('setup_link_invalid'));
    return;
  }
  try {
    account = await call('/api/auth/setup/inspect', { token });
    form.elements.username.value = account.username;
    form.hidden = false;
    render();
    form.elements.password.focus();
  } catch (failure) {
    showError(error, errorText(failure.code));
  }
}

async function submit(event) {
  event.preventDefault();
  showError(error, '');
  const password = form.elements.password.value;
  if (!password || password !== form.elements.repeat.value) {
    showError(error, t(password ? 'console.password.mismatch' : 'console.password.missing'));
    return;
  }
  try {
    await call('/api/auth/setup', { token, password });
    form.reset();
    form.hidden = true;
    part('setup-done').hidden = false;
  } catch (failure) {
    showError(error, errorText(failure.code));
  }
}

async function boot() {
  const stored = sessionStorage.getItem(LANGUAGE_KEY);
  await setLanguage(LANGUAGES.includes(stored) ? stored : 'sv');
  const select = document.getElementById('language-select');
  const names = await languageNames(LANGUAGES);
  select.replaceChildren(...LANGUAGES.map((code) => new Option(names[code], code)));
  select.value = LANGUAGES.includes(stored) ? stored : 'sv';
  select.addEventListener('change', async () => {
    await setLanguage(select.value);
    sessionStorage.setItem(LANGUAGE_KEY, select.value);
    render();
  });
  form.addEventListener('submit', submit);
  render();
  await inspect();
}

boot();
