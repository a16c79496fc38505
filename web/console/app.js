// Staff console entry point: language, login and logout, and one live session per login.
import { languageNames, setLanguage, t, translateDom } from '/shared/i18n.js';
import * as api from './api.js';
import {
  alertUser, isAttending, notificationPermission, notificationsSupported, requestNotificationPermission, unlockAudio,
} from './alerts.js';
import { AccountsView } from './accounts.js';
import { AppointmentsView } from './appointments/view.js';
import { AuditView } from './audit.js';
import { AwayConfirm } from './away_confirm.js';
import { showError } from '/shared/dom.js';
import { errorText } from './dom.js';
import { EscalationsView } from './escalations/view.js';
import { HistoryView } from './history.js';
import { KnowledgeView } from './knowledge/editor.js';
import { QueueView } from './queue.js';
import { ask, connectCounsellor } from './realtime.js';
import { StatisticsView } from './statistics/statistics.js';
import { SupervisionView } from './supervision/view.js';
import { PasswordView } from './password.js';
import { TotpView } from './totp.js';
import { Workspace } from './workspace.js';

const LANGUAGES = ['sv', 'en'];
const LANGUAGE_KEY = 'kinline.console.language';
const byId = (id) => document.getElementById(id);

const views = {
  login: byId('login-view'),
  live: byId('live-view'),
  history: byId('history-view'),
  escalations: byId('escalations-view'),
  appointments: byId('appointments-view'),
  audit: byId('audit-view'),
  statistics: byId('statistics-view'),
  knowledge: byId('knowledge-view'),
  supervision: byId('supervision-view'),
  accounts: byId('accounts-view'),
  security: byId('security-view'),
};
const loginForm = byId('login-form');
const loginError = document.querySelector('[data-testid="login-error"]');
const connection = document.querySelector('[data-testid="connection-state"]');
const viewSwitch = byId('view-switch');
const userName = byId('current-user');
const logoutButton = byId('logout');
const alertsButton = byId('enable-alerts');

const awayConfirm = new AwayConfirm(byId('away-confirm'));
const queue = new QueueView({
  list: byId('queue-list'),
  count: byId('queue-count'),
  empty: byId('queue-empty'),
  more: byId('queue-more'),
  error: byId('queue-error'),
  onClaim: (id) => (session ? session.workspace.claim(id) : Promise.resolve({ ok: false, error: { code: 'offline' } })),
  onNewItem: () => alertUser('conversation'),
  confirmAway: (button) => awayConfirm.ask(button),
});
const history = new HistoryView({
  list: byId('history-list'),
  empty: byId('history-empty'),
  error: byId('history-error'),
  detail: byId('history-detail'),
  refresh: byId('history-refresh'),
});
const escalations = new EscalationsView({ root: views.escalations, panels: byId('chat-panels'), viewSwitch });
const appointments = new AppointmentsView({ root: views.appointments });
const audit = new AuditView({ root: views.audit, nav: viewSwitch.querySelector('[data-view="audit"]') });
const statistics = new StatisticsView({ root: views.statistics, nav: viewSwitch.querySelector('[data-view="statistics"]') });
const knowledge = new KnowledgeView({ root: views.knowledge, nav: viewSwitch.querySelector('[data-view="knowledge"]') });
const supervision = new SupervisionView({
  root: views.supervision,
  nav: viewSwitch.querySelector('[data-view="supervision"]'),
  onAlert: () => alertUser('supervision'),
});
const accounts = new AccountsView({ root: views.accounts, nav: viewSwitch.querySelector('[data-view="accounts"]') });
const password = new PasswordView({ root: views.security });
const totp = new TotpView({
  root: views.security,
  onEnrolled: () => session && startSession(session.user),
  onStatus: (status) => password.setTotpEnabled(status.enabled),
});

/** The logged-in state: user, settings, socket and workspace. Null while the login form shows. */
let session = null;

function storedLanguage() {
  const code = sessionStorage.getItem(LANGUAGE_KEY);
  return LANGUAGES.includes(code) ? code : 'sv';
}

async function applyLanguage(code) {
  await setLanguage(code);
  sessionStorage.setItem(LANGUAGE_KEY, code);
  document.title = t('console.page_title');
  translateDom(document);
  queue.retranslate();
  history.retranslate();
  session?.workspace?.retranslate();
  escalations.retranslate();
  appointments.retranslate();
  audit.retranslate();
  statistics.retranslate();
  knowledge.retranslate();
  supervision.retranslate();
  accounts.retranslate();
  totp.retranslate();
  if (session) setConnectionState(connection.dataset.state);
  renderUserName();
}

async function fillLanguagePicker() {
  const select = byId('language-select');
  const names = await languageNames(LANGUAGES);
  select.replaceChildren(...LANGUAGES.map((code) => new Option(names[code], code)));
  select.value = storedLanguage();
  select.addEventListener('change', () => applyLanguage(select.value));
}

function showView(name) {
  for (const [key, element] of Object.entries(views)) element.hidden = key !== name;
  const loggedIn = name !== 'login';
  viewSwitch.hidden = !loggedIn || Boolean(session?.enrollmentOnly);
  // Only a session with the chat socket has a connection to show (social services and enrollment have none).
  connection.hidden = !loggedIn || !session?.socket;
  logoutButton.hidden = !loggedIn;
  userName.hidden = !loggedIn;
  for (const button of viewSwitch.querySelectorAll('[data-view]')) {
    button.setAttribute('aria-pressed', String(button.dataset.view === name));
  }
  session?.workspace?.setLiveVisible(name === 'live');
  if (name === 'history') history.load();
  appointments.setVisible(name === 'appointments');
  if (name === 'audit') audit.load();
  if (name === 'accounts') accounts.load();
  statistics.setVisible(name === 'statistics');
  knowledge.setVisible(name === 'knowledge');
  supervision.setVisible(name === 'supervision');
  if (name === 'security' && !session?.enrollmentOnly) totp.refresh();
  // A session that may only enroll cannot change the password yet.
  password.setAvailable(!session?.enrollmentOnly);
  renderAlertsButton();
}

function renderUserName() {
  userName.textContent = session ? t('console.signed_in_as', { name: session.user.display_name || session.user.username }) : '';
}

function renderAlertsButton() {
  alertsButton.hidden = !session || !notificationsSupported() || notificationPermission() !== 'default';
}

function setConnectionState(state) {
  connection.dataset.state = state;
  connection.textContent = t(`console.connection.${state}`);
}

// ---- login and logout ----

function showLogin() {
  endSession();
  showView('login');
  loginForm.elements.password.value = '';
  loginForm.elements.code.value = '';
  loginForm.elements.username.focus();
}

async function onLoginSubmit(event) {
  event.preventDefault();
  const username = loginForm.elements.username.value.trim();
  const password = loginForm.elements.password.value;
  const code = loginForm.elements.code.value;
  showError(loginError, '');
  if (!username || !password) {
    showError(loginError, t('console.login.missing'));
    return;
  }
  const submit = loginForm.querySelector('[data-testid="login-submit"]');
  submit.disabled = true;
  try {
    const { user } = await api.login(username, password, code);
    loginForm.reset();
    await startSession(user);
  } catch (error) {
    // One generic message for any refusal: never hint whether the username exists.
    const code = error.status === 401 ? 'invalid_credentials' : error.code;
    if (code === 'rate_limited') {
      // Too many attempts for this username or from this address: say how long to wait.
      showError(loginError, t('console.login.rate_limited', { seconds: Math.max(1, error.retryAfter || 1) }));
    } else {
      showError(loginError, code === 'invalid_credentials' ? t('console.login.failed') : errorText(code));
    }
  } finally {
    submit.disabled = false;
  }
}

async function onLogout() {
  endSession();
  try {
    await api.logout();
  } catch {
    // The session is gone on this page either way; the server also expires it.
  }
  showLogin();
}

// ---- session ----

async function startSession(user) {
  endSession();
  if (await enrollmentOnly()) {
    // TOTP is required and this account has none: the session may only enroll.
    session = { user, enrollmentOnly: true };
    renderUserName();
    showView('security');
    return;
  }
  escalations.start(user);
  audit.start(user);
  accounts.start(user);
  statistics.start(user);
  knowledge.start(user);
  supervision.start(user);
  if (user.role === 'social_services' || user.role === 'coordinator') {
    // A social services user has the escalation inbox only, the coordinator the statistics and the
    // knowledge bank's editor (docs/knowledge.md): no chat socket, no workspace.
    session = { user };
    renderUserName();
    showView(user.role === 'coordinator' ? 'statistics' : 'escalations');
    return;
  }
  let settings;
  try {
    settings = await api.staffSettings();
  } catch {
    settings = { outcomes: [], topics: [], languages: [], capacity: 0 };
  }
  const socket = connectCounsellor();
  const request = (event, payload) => ask(socket, event, payload);
  const cannedCache = new Map();
  const canned = (language) => {
    if (!cannedCache.has(language)) {
      const answers = api.cannedAnswers(language).then((data) => data.answers || []);
      answers.catch(() => cannedCache.delete(language));
      cannedCache.set(language, answers);
    }
    return cannedCache.get(language);
  };
  const workspace = new Workspace({
    tabs: byId('chat-tabs'),
    panels: byId('chat-panels'),
    empty: byId('workspace-empty'),
    template: byId('conversation-template'),
    ctx: { ask: request, user, settings, canned },
  });
  const ticker = window.setInterval(() => {
    queue.tick();
    supervision.tick();
  }, 1000);
  supervision.attach({ ask: request, user, settings });
  session = { user, settings, socket, workspace, ticker };
  wireSocket(session);
  appointments.start(user, socket);
  renderUserName();
  setConnectionState('connecting');
  showView('live');
}

async function enrollmentOnly() {
  try {
    return await totp.load();
  } catch {
    return false;
  }
}

function wireSocket(current) {
  const { socket, workspace } = current;
  const live = () => session === current;
  socket.on('connect', () => {
    if (!live()) return;
    setConnectionState('connected');
    workspace.onConnect();
  });
  socket.on('disconnect', async (reason) => {
    if (!live()) return;
    setConnectionState('reconnecting');
    // The server ended this socket (logout elsewhere, account disabled): only reconnect if the session still holds.
    if (reason === 'io server disconnect') await reconnectIfStillLoggedIn(current);
  });
  socket.on('connect_error', async (error) => {
    if (!live()) return;
    const code = error?.data?.code;
    if (code === 'totp_enrollment_required') {
      // Two-factor sign-in was reset while TOTP is required: enroll again before going on.
      startSession(current.user);
      return;
    }
    if (code === 'not_authenticated' || code === 'forbidden') {
      showLogin();
      if (code === 'forbidden') showError(loginError, errorText(code));
      return;
    }
    setConnectionState('reconnecting');
    // A refusal from the namespace is not retried by socket.io itself.
    if (!socket.active) window.setTimeout(() => live() && socket.connect(), 5000);
  });
  socket.on('queue', (payload) => live() && queue.update(payload?.conversations || [], payload?.total));
  socket.on('mine', (payload) => live() && workspace.syncMine(payload?.conversations || []));
  socket.on('message', (message) => live() && workspace.onMessage(message));
  socket.on('typing', (payload) => live() && workspace.onTyping(payload));
  socket.on('note', (note) => live() && workspace.onNote(note));
  socket.on('overview', (overview) => live() && supervision.update(overview));
}

async function reconnectIfStillLoggedIn(current) {
  try {
    await api.me();
  } catch {
    if (session === current) showLogin();
    return;
  }
  if (session === current) current.socket.connect();
}

function endSession() {
  escalations.stop();
  appointments.stop();
  audit.clear();
  accounts.clear();
  password.clear();
  statistics.clear();
  knowledge.clear();
  supervision.clear();
  totp.clear();
  if (!session) return;
  const { socket, workspace, ticker } = session;
  session = null;
  window.clearInterval(ticker);
  socket?.removeAllListeners();
  socket?.disconnect();
  workspace?.clear();
  awayConfirm.cancel();
  queue.clear();
  history.clear();
  renderUserName();
}

// ---- page-wide wiring ----

function wirePage() {
  loginForm.addEventListener('submit', onLoginSubmit);
  logoutButton.addEventListener('click', onLogout);
  for (const button of viewSwitch.querySelectorAll('[data-view]')) {
    button.addEventListener('click', () => showView(button.dataset.view));
  }
  alertsButton.addEventListener('click', async () => {
    await requestNotificationPermission();
    renderAlertsButton();
  });
  // Audio may only start after a user gesture.
  document.addEventListener('pointerdown', unlockAudio, { capture: true });
  document.addEventListener('keydown', unlockAudio, { capture: true });
  const markRead = () => isAttending() && session?.workspace.markActiveRead();
  window.addEventListener('focus', markRead);
  document.addEventListener('visibilitychange', markRead);
  api.setUnauthenticatedHandler(() => session && showLogin());
}

async function boot() {
  await setLanguage(storedLanguage());
  document.title = t('console.page_title');
  translateDom(document);
  await fillLanguagePicker();
  wirePage();
  try {
    const { user } = await api.me();
    await startSession(user);
  } catch {
    showLogin();
  }
}

boot();
