// The relative's page: start or resume an anonymous conversation, chat, leave, or exit at once.

import { setLanguage, t, translateDom, language, languageNames } from '/shared/i18n.js';
import { ChatSession } from './chat.js';
import { EscalationStatus } from './escalation.js';
import { WaitingLanguage } from './waiting.js';
import { Survey } from './survey.js';
import { MessageList } from './messages.js';
import { renderHours, openNowText } from './hours.js';
import { errorText, formatNumber, tCount } from '/shared/format.js';
import { show, showError as showText } from '/shared/dom.js';
import * as storage from './storage.js';
import { call } from './api.js';
import { keepQuickExitOverDialogs, trackTopbarHeight, trackVisibleHeight } from './layout.js';

const DEFAULT_MAX_MESSAGE_LENGTH = 4000;
/** The counter turns to a warning this many characters before the limit. */
const COUNTER_WARNING_MARGIN = 200;
const TYPING_VISIBLE_MS = 4000;
const DOUBLE_ESCAPE_MS = 1500;
const CLOSED_REFRESH_MS = 60000;
const REPLAY_QUIET_MS = 3000;
const DEFAULT_TOPIC = 'worried_about_someone';
const DEFAULT_LANGUAGE = 'sv';
/** `/?lang=so` opens the page in that language, over the stored and the browser's choice. */
const LANGUAGE_PARAMETER = 'lang';
/** Within this many pixels of the bottom, the relative is reading the newest messages. */
const LATEST_MARGIN_PX = 80;
const FALLBACK_EXIT_URL = 'https://www.google.com/';

const $ = (id) => document.getElementById(id);

const ui = {
  loading: $('loading'),
  loadError: $('load-error'),
  loadRetry: $('load-retry'),
  startView: $('start-view'),
  chatView: $('chat-view'),
  langSelect: $('lang-select'),
  topicSelect: $('topic-select'),
  topicField: $('topic-field'),
  topbar: $('topbar'),
  startHeading: $('start-heading'),
  quickExit: $('quick-exit'),
  helpLink: $('help-link'),
  hours: { now: $('hours-now'), caption: $('hours-caption'), rows: $('hours-rows'), timezone: $('hours-timezone') },
  emergency: $('emergency'),
  serviceClosed: $('service-closed'),
  startForm: $('start-form'),
  startButton: $('start-button'),
  startError: $('start-error'),
  resumeForm: $('resume-form'),
  resumeInput: $('resume-input'),
  resumeButton: $('resume-button'),
  resumeError: $('resume-error'),
  resumePanel: $('resume-panel'),
  resumeCode: $('resume-code'),
  resumeDismiss: $('resume-dismiss'),
  conversationState: $('conversation-state'),
  queuePosition: $('queue-position'),
  estimatedWait: $('estimated-wait'),
  connectionState: $('connection-state'),
  messages: $('messages'),
  scroller: $('scroller'),
  announcer: $('announcer'),
  typingIndicator: $('typing-indicator'),
  closedNotice: $('closed-notice'),
  closedText: $('closed-text'),
  newConversation: $('new-conversation'),
  composer: $('composer'),
  messageInput: $('message-input'),
  charCounter: $('char-counter'),
  sendButton: $('send-button'),
  composerError: $('composer-error'),
  endButton: $('end-button'),
  endDialog: $('end-dialog'),
  endCancel: $('end-cancel'),
  endConfirm: $('end-confirm'),
};

const state = {
  publicInfo: null,
  session: null,
  status: null,
  connected: null,
  /** Messages replayed right after a reload or resume are old news: do not read them out until then. */
  quietUntil: 0,
  typingTimer: null,
  closedRefreshTimer: null,
  lastEscape: 0,
  /** The relative pressed "end chat": the closed status that follows is theirs, and their token has ended. */
  leaving: false,
  /** Whether the newest message was in view at the last scroll: a resize (the keyboard opening) keeps it there. */
  followLatest: true,
};

const messageList = new MessageList(ui.messages);
const escalationStatus = new EscalationStatus(ui.startView);
const survey = new Survey($('survey'), {
  onDone: storage.markSurveyed,
  onSkipped: () => ui.newConversation.focus(),
});
const waitingLanguage = new WaitingLanguage($('waiting-language'), {
  choose: (choice) => state.session?.chooseLanguage(choice) ?? { ok: false, error: { code: 'network' } },
});

// ---- helpers ------------------------------------------------------------------------------------------------

function showError(element, code) {
  showText(element, code ? errorText(code) : '');
}

function exitUrl() {
  return state.publicInfo?.exit_url || FALLBACK_EXIT_URL;
}

// ---- quick exit -------------------------------------------------------------------------------------------------

/** One tap, no confirmation: forget everything and replace this page in the history with a neutral site. */
function quickExit() {
  leaveAsThePageGoes();
  storage.clearAll();
  state.session?.close();
  state.session = null;
  document.title = '';
  document.body.replaceChildren();
  location.replace(exitUrl());
}

/** Quick exit ends the conversation and the access to it, like "leave": a beacon survives the page going away. */
function leaveAsThePageGoes() {
  const token = state.session?.token ?? storage.loadConversation()?.token;
  if (!token || typeof navigator.sendBeacon !== 'function') return;
  navigator.sendBeacon('/api/conversations/leave', new Blob([JSON.stringify({ token })], { type: 'application/json' }));
}

function onKeydown(event) {
  if (event.key !== 'Escape') return;
  const now = Date.now();
  if (now - state.lastEscape <= DOUBLE_ESCAPE_MS) quickExit();
  else state.lastEscape = now;
}

// ---- language -----------------------------------------------------------------------------------------------

function linkedLanguage() {
  return new URLSearchParams(location.search).get(LANGUAGE_PARAMETER);
}

function pickInitialLanguage(available) {
  const linked = linkedLanguage();
  if (linked && available.includes(linked)) return linked;
  const stored = storage.loadLanguage();
  if (stored && available.includes(stored)) return stored;
  for (const preferred of navigator.languages ?? []) {
    const code = preferred.toLowerCase().split('-')[0];
    if (available.includes(code)) return code;
    if (code === 'prs' && available.includes('fa')) return 'fa';
  }
  return available.includes(DEFAULT_LANGUAGE) ? DEFAULT_LANGUAGE : available[0];
}

async function fillLanguageSelect(codes) {
  const names = await languageNames(codes);
  ui.langSelect.replaceChildren(...codes.map((code) => {
    const option = new Option(names[code], code);
    option.lang = code;
    return option;
  }));
  ui.langSelect.value = language();
}

function fillTopicSelect(topics) {
  const selected = ui.topicSelect.value || DEFAULT_TOPIC;
  ui.topicSelect.replaceChildren(...topics.map((topic) => new Option(t(`topics.${topic}`), topic)));
  ui.topicSelect.value = topics.includes(selected) ? selected : topics[0];
}

/** Everything that is not a plain data-i18n element, rendered again in the current language. */
function renderTexts() {
  translateDom(document);
  document.title = t('widget.title');
  ui.helpLink.href = `/help?lang=${encodeURIComponent(language())}`;
  if (state.publicInfo) {
    fillTopicSelect(state.publicInfo.topics);
    renderPublicInfo();
  }
  renderStatus();
  renderConnection();
  renderCounter();
  messageList.retranslate();
  escalationStatus.retranslate();
  survey.retranslate();
}

async function changeLanguage(code) {
  await setLanguage(code);
  storage.saveLanguage(code);
  followLinkedLanguage(code);
  renderTexts();
}

/** A page opened with ?lang= keeps the relative's later choice on reload: the address follows the menu. */
function followLinkedLanguage(code) {
  if (linkedLanguage() === null) return;
  const url = new URL(location.href);
  url.searchParams.set(LANGUAGE_PARAMETER, code);
  history.replaceState(history.state, '', url);
}

// ---- start view ---------------------------------------------------------------------------------------------------

function renderPublicInfo() {
  const info = state.publicInfo;
  if (!info) return;
  ui.startHeading.textContent = t(`widget.heading_${info.heading === 'explicit' ? 'explicit' : 'neutral'}`);
  renderHours(ui.hours, info);
  ui.emergency.textContent = t('widget.emergency', { number: info.emergency_number });
  const canStart = Boolean(info.open || info.always_open);
  show(ui.startButton, canStart);
  show(ui.topicField, canStart);
  show(ui.serviceClosed, !canStart);
  ui.serviceClosed.textContent = canStart ? '' : openNowText(info);
}

async function loadPublicInfo() {
  const result = await call('GET', '/api/public');
  if (!result.ok) return false;
  state.publicInfo = result.data;
  return true;
}

/** While closed, look again every minute so the start button appears when the line opens. */
function scheduleClosedRefresh() {
  clearTimeout(state.closedRefreshTimer);
  if (!state.publicInfo || state.publicInfo.open || state.publicInfo.always_open) return;
  state.closedRefreshTimer = setTimeout(async () => {
    if (await loadPublicInfo()) renderPublicInfo();
    scheduleClosedRefresh();
  }, CLOSED_REFRESH_MS);
}

function showStartView({ errorCode = null } = {}) {
  document.body.classList.remove('chat-mode');
  show(ui.chatView, false);
  show(ui.startView, true);
  showError(ui.startError, errorCode);
  renderPublicInfo();
  scheduleClosedRefresh();
}

async function onStart(event) {
  event.preventDefault();
  showError(ui.startError, null);
  ui.startButton.disabled = true;
  const result = await call('POST', '/api/conversations', { language: language(), topic: ui.topicSelect.value });
  ui.startButton.disabled = false;
  if (!result.ok) {
    showError(ui.startError, result.code);
    if (result.code === 'closed' && await loadPublicInfo()) renderPublicInfo();
    return;
  }
  const { conversation_id, token, resume_code } = result.data;
  storage.saveConversation({ conversation_id, token, last_seq: 0 });
  openChat({ token, resumeCode: resume_code, replayIsNew: true });
}

async function onResume(event) {
  event.preventDefault();
  const code = ui.resumeInput.value.trim();
  if (!code) {
    showError(ui.resumeError, 'resume_code_missing');
    ui.resumeInput.focus();
    return;
  }
  showError(ui.resumeError, null);
  ui.resumeButton.disabled = true;
  const result = await call('POST', '/api/conversations/resume', { resume_code: code });
  ui.resumeButton.disabled = false;
  if (!result.ok) {
    showError(ui.resumeError, result.code === 'not_found' ? 'resume_not_found' : result.code);
    ui.resumeInput.focus();
    return;
  }
  ui.resumeInput.value = '';
  const { conversation_id, token } = result.data;
  storage.saveConversation({ conversation_id, token, last_seq: 0 });
  openChat({ token, replayIsNew: false });
}

// ---- chat view ----------------------------------------------------------------------------------------------------

function openChat({ token, resumeCode = null, replayIsNew, moveFocus = true }) {
  clearTimeout(state.closedRefreshTimer);
  state.session?.close();
  messageList.clear();
  state.status = null;
  state.connected = null;
  state.leaving = false;
  survey.reset();
  state.quietUntil = replayIsNew ? 0 : Date.now() + REPLAY_QUIET_MS;
  ui.messageInput.value = '';
  ui.messageInput.maxLength = messageLimit();
  showError(ui.composerError, null);
  hideTyping();
  renderStatus();
  renderConnection();
  renderCounter();

  show(ui.startView, false);
  show(ui.chatView, true);
  document.body.classList.add('chat-mode');
  ui.resumeCode.textContent = resumeCode ?? '';
  show(ui.resumePanel, Boolean(resumeCode));

  const session = new ChatSession({ token, outbox: storage.loadOutbox(), handlers: sessionHandlers() });
  state.session = session;
  for (const entry of session.pendingEntries()) messageList.showPending(entry);
  session.connect();

  if (resumeCode) ui.resumePanel.focus();
  else if (moveFocus) ui.messageInput.focus();
}

function sessionHandlers() {
  return {
    onStatus(status) {
      state.status = status;
      renderStatus();
    },
    onMessage(message) {
      const follow = isScrolledToLatest();
      const element = messageList.add(message);
      if (!element) return;
      if (message.sender !== 'relative') {
        hideTyping();
        if (Date.now() > state.quietUntil) announce(message);
      }
      if (follow) scrollToLatest();
    },
    onAcked(entry, message) {
      const follow = isScrolledToLatest();
      messageList.removePending(entry.client_id);
      if (messageList.add(message) && follow) scrollToLatest();
    },
    onOutboxChange(entry) {
      messageList.showPending(entry);
    },
    onRead(seq) {
      messageList.markRead(seq);
    },
    onTyping() {
      showTyping();
    },
    onConnection(connected) {
      state.connected = connected;
      renderConnection();
    },
    onRefused(code) {
      state.session = null;
      state.connected = false;
      renderConnection();
      showError(ui.composerError, code);
    },
    onInvalidToken() {
      state.session = null;
      storage.clearConversation();
      messageList.clear();
      showStartView({ errorCode: 'invalid_token' });
    },
    onPersist(lastSeq, outboxEntries) {
      storage.saveLastSeq(lastSeq);
      storage.saveOutbox(outboxEntries);
    },
  };
}

function announce(message) {
  ui.announcer.textContent = `${t(`widget.sender_${message.sender}`)}: ${message.text}`;
}

/** True when the relative is reading the newest messages, so new ones may scroll into view. */
function isScrolledToLatest() {
  const { scrollHeight, scrollTop, clientHeight } = ui.scroller;
  return scrollHeight - scrollTop - clientHeight < LATEST_MARGIN_PX;
}

function scrollToLatest() {
  ui.scroller.scrollTop = ui.scroller.scrollHeight;
  state.followLatest = true;
}

function renderStatus() {
  const status = state.status;
  const conversationState = status?.state ?? 'connecting';
  ui.conversationState.dataset.state = conversationState;
  ui.conversationState.textContent = t(`widget.state_${conversationState}`);

  const waiting = conversationState === 'waiting';
  const position = waiting ? status.queue_position : null;
  show(ui.queuePosition, Number.isInteger(position));
  ui.queuePosition.dataset.value = Number.isInteger(position) ? String(position) : '';
  ui.queuePosition.textContent = Number.isInteger(position) ? tCount('widget.queue_position', position) : '';

  const waitSeconds = waiting ? status.estimated_wait_seconds : null;
  show(ui.estimatedWait, Number.isInteger(waitSeconds));
  ui.estimatedWait.dataset.value = Number.isInteger(waitSeconds) ? String(waitSeconds) : '';
  ui.estimatedWait.textContent = Number.isInteger(waitSeconds) ? waitText(waitSeconds) : '';

  waitingLanguage.render(status);

  const closed = conversationState === 'closed';
  show(ui.closedNotice, closed);
  // The server closed it after chat.auto_close_after with no message: say so, not just "ended".
  const closedKey = closed && status.closed_reason === 'inactive' ? 'widget.closed_inactive_notice' : 'widget.closed_notice';
  ui.closedText.dataset.i18n = closedKey;
  ui.closedText.textContent = t(closedKey);
  show(ui.composer, !closed);
  show(ui.endButton, !closed);
  if (closed) hideTyping();
  if (closed && !state.leaving && !storage.loadConversation()?.surveyed) survey.offer(state.session?.token);
}

function waitText(seconds) {
  if (seconds < 60) return t('widget.wait_under_minute');
  return tCount('widget.wait_minutes', Math.ceil(seconds / 60));
}

function renderConnection() {
  const lost = state.connected === false && state.status?.state !== 'closed';
  show(ui.connectionState, lost);
  ui.connectionState.textContent = lost ? t('widget.reconnecting') : '';
}

function showTyping() {
  const follow = isScrolledToLatest();
  ui.typingIndicator.textContent = t('widget.typing');
  show(ui.typingIndicator, true);
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(hideTyping, TYPING_VISIBLE_MS);
  if (follow) scrollToLatest();
}

function hideTyping() {
  clearTimeout(state.typingTimer);
  show(ui.typingIndicator, false);
  ui.typingIndicator.textContent = '';
}

function messageLimit() {
  return state.publicInfo?.max_text_length || DEFAULT_MAX_MESSAGE_LENGTH;
}

/** Characters as the server counts them (code points), not UTF-16 units. */
function characterCount(text) {
  return [...text].length;
}

function renderCounter() {
  const count = characterCount(ui.messageInput.value);
  const max = messageLimit();
  ui.charCounter.textContent = t('widget.char_counter', { count: formatNumber(count), max: formatNumber(max) });
  ui.charCounter.classList.toggle('warning', count >= max - COUNTER_WARNING_MARGIN);
}

function onInput() {
  renderCounter();
  showError(ui.composerError, null);
  if (ui.messageInput.value.trim()) state.session?.typing();
}

function onSend(event) {
  event.preventDefault();
  const text = ui.messageInput.value;
  if (!text.trim()) {
    showError(ui.composerError, 'empty_text');
    ui.messageInput.focus();
    return;
  }
  if (characterCount(text) > messageLimit()) {
    showError(ui.composerError, 'text_too_long');
    return;
  }
  if (!state.session) return;
  showError(ui.composerError, null);
  messageList.showPending(state.session.send(text));
  ui.messageInput.value = '';
  renderCounter();
  ui.messageInput.focus();
  scrollToLatest();
}

/** Enter sends on devices with a keyboard; on touch screens Enter is a new line and the button sends. */
function onComposerKeydown(event) {
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
  if (window.matchMedia('(pointer: coarse)').matches) return;
  event.preventDefault();
  ui.composer.requestSubmit();
}

async function onEndConfirm() {
  ui.endConfirm.disabled = true;
  state.leaving = true;
  const ack = await state.session?.leave();
  ui.endConfirm.disabled = false;
  ui.endDialog.close();
  if (ack?.ok) {
    state.status = { state: 'closed', queue_position: null, estimated_wait_seconds: null };
    renderStatus();
    renderConnection();
    ui.closedNotice.focus();
  } else {
    state.leaving = false;
    showError(ui.composerError, ack?.error?.code ?? 'unknown');
  }
}

function onNewConversation() {
  state.session?.close();
  state.session = null;
  state.status = null;
  survey.reset();
  storage.clearConversation();
  messageList.clear();
  showStartView();
  ui.topicSelect.focus();
}

function dismissResumeCode() {
  ui.resumeCode.textContent = '';
  show(ui.resumePanel, false);
  ui.messageInput.focus();
}

// ---- boot -----------------------------------------------------------------------------------------------------------

/** When the list gets shorter (the keyboard opened, the status grew), the newest message stays in view. */
function keepLatestInView() {
  let height = ui.scroller.clientHeight;
  ui.scroller.addEventListener('scroll', () => {
    // A scroll that comes with a new height is the browser's (anchoring while resizing), not the relative's.
    if (ui.scroller.clientHeight === height) state.followLatest = isScrolledToLatest();
  }, { passive: true });
  new ResizeObserver(() => {
    height = ui.scroller.clientHeight;
    if (state.followLatest) scrollToLatest();
  }).observe(ui.scroller);
}

function wireEvents() {
  ui.quickExit.addEventListener('click', quickExit);
  keepQuickExitOverDialogs(ui.quickExit, quickExit);
  trackTopbarHeight(ui.topbar);
  trackVisibleHeight();
  keepLatestInView();
  document.addEventListener('keydown', onKeydown);
  ui.langSelect.addEventListener('change', () => changeLanguage(ui.langSelect.value));
  ui.startForm.addEventListener('submit', onStart);
  ui.resumeForm.addEventListener('submit', onResume);
  ui.resumeDismiss.addEventListener('click', dismissResumeCode);
  ui.composer.addEventListener('submit', onSend);
  ui.messageInput.addEventListener('input', onInput);
  ui.messageInput.addEventListener('keydown', onComposerKeydown);
  ui.endButton.addEventListener('click', () => ui.endDialog.showModal());
  ui.endCancel.addEventListener('click', () => ui.endDialog.close());
  ui.endConfirm.addEventListener('click', onEndConfirm);
  ui.newConversation.addEventListener('click', onNewConversation);
  ui.loadRetry.addEventListener('click', boot);
}

async function boot() {
  show(ui.loadError, false);
  show(ui.loading, true);
  const loaded = await loadPublicInfo();
  const languages = state.publicInfo?.languages?.length ? state.publicInfo.languages : [DEFAULT_LANGUAGE];
  try {
    await setLanguage(pickInitialLanguage(languages));
    await fillLanguageSelect(languages);
  } catch {
    show(ui.loading, false);
    show(ui.loadError, true);
    return;
  }
  renderTexts();
  show(ui.loading, false);
  const stored = storage.loadConversation();
  if (stored) openChat({ token: stored.token, replayIsNew: false, moveFocus: false });
  else if (loaded) showStartView();
  else show(ui.loadError, true);
}

wireEvents();
boot();
