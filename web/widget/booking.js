// Booking on the relative's page: choose a kind, a language and a free time, give a mobile number,
// and get a reference, a calendar file and a manage code; later cancel or move the booking with that code.
// Mounts into #booking-entry (start view) and #booking-chat-entry (chat view); the flow runs in a dialog.
// Nothing is stored in the browser: the manage code is shown once.

import { language, languageNames, t, tOr, translateDom } from '/shared/i18n.js';
import { el, show, showError as showText } from '/shared/dom.js';
import { errorText, formatDateTime, formatTime, weekdayIn, weekdayName } from '/shared/format.js';
import { loadConversation } from './storage.js';
import { call } from './api.js';

const DAYS_PER_PAGE = 7;
const MAX_DAYS = 56;
const DAY_MS = 86400000;
const LIST_SEPARATOR = ' · ';

/** A name in another script or direction, kept whole inside a sentence (first strong isolate). */
function isolate(text) {
  return `\u2068${text}\u2069`;
}

const state = {
  options: null,
  mode: 'book', // 'book' | 'rebook'
  kind: null,
  language: null,
  days: DAYS_PER_PAGE,
  slots: [],
  slotsLoaded: false,
  freeLanguages: null, // the languages with free times of the kind in the window; null when unknown
  names: {},
  offered: [],
  selected: null,
  manageCode: null,
  managed: null,
  loadToken: 0,
};

// ---- small helpers ----------------------------------------------------------------------------------------------

function bookingError(code) {
  return tOr(`booking.errors.${code}`, errorText(code));
}

function showError(element, code) {
  showText(element, code ? bookingError(code) : '');
}

function zone() {
  return state.options?.timezone || 'Europe/Stockholm';
}

function kindName(kind) {
  return t(`booking.kind_${kind}`);
}

function whenText(iso) {
  return formatDateTime(iso, zone());
}

function dayHeading(iso) {
  const date = new Date(iso);
  const dayMonth = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'numeric', timeZone: zone() }).format(date);
  return `${weekdayName(weekdayIn(date, zone()))} ${dayMonth}`;
}

// ---- the dialog -------------------------------------------------------------------------------------------------

const ui = {};

function buildDialog() {
  ui.error = el('p', { class: 'notice notice-error', role: 'alert', 'data-testid': 'booking-error', hidden: true });
  ui.kinds = el('div', { class: 'booking-kinds', role: 'radiogroup', 'aria-labelledby': 'booking-kind-legend' });
  ui.languageSelect = el('select', { id: 'booking-language', 'data-testid': 'booking-language', onchange: onLanguageSelect });
  ui.offered = el('section', { class: 'booking-offered', 'data-testid': 'booking-offered', hidden: true },
    el('h3', { i18n: 'booking.offered_heading' }),
    el('div', { class: 'booking-slot-list' }));
  ui.slotList = el('div', { class: 'booking-days', 'data-testid': 'booking-slots', 'aria-live': 'polite' });
  ui.slotStatus = el('p', { class: 'hint', role: 'status', 'data-testid': 'booking-slot-status' });
  ui.otherLanguages = el('p', { class: 'hint', 'data-testid': 'booking-other-languages', hidden: true });
  ui.interpreter = el('div', { class: 'booking-interpreter', 'data-testid': 'booking-interpreter', hidden: true },
    el('p', { i18n: 'booking.interpreter_hint' }),
    el('button', { type: 'button', class: 'button', 'data-testid': 'booking-interpreter-choose', i18n: 'booking.interpreter_button', onclick: chooseInterpreter }));
  ui.more = el('button', { type: 'button', class: 'button button-quiet', i18n: 'booking.more_days', onclick: loadMore });
  ui.selected = el('p', { class: 'booking-selected', 'data-testid': 'booking-selected', hidden: true });
  ui.phone = el('input', {
    id: 'booking-phone', 'data-testid': 'booking-phone', type: 'tel', inputmode: 'tel', autocomplete: 'off',
    maxlength: '40', 'aria-describedby': 'booking-phone-hint',
  });
  ui.phoneField = el('div', { class: 'field' },
    el('label', { for: 'booking-phone', i18n: 'booking.phone_label' }), ui.phone,
    el('p', { id: 'booking-phone-hint', class: 'hint', i18n: 'booking.phone_hint' }));
  ui.submit = el('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'booking-submit' });
  ui.form = el('form', { class: 'booking-form', novalidate: true, onsubmit: onSubmit },
    el('fieldset', { class: 'booking-fieldset' },
      el('legend', { id: 'booking-kind-legend', i18n: 'booking.kind_label' }), ui.kinds),
    el('div', { class: 'field' }, el('label', { for: 'booking-language', i18n: 'booking.language_label' }), ui.languageSelect),
    ui.offered,
    el('section', { class: 'booking-slots' },
      el('h3', { i18n: 'booking.slots_heading' }),
      el('p', { class: 'hint', 'data-role': 'zone' }),
      ui.slotStatus, ui.otherLanguages, ui.interpreter, ui.slotList, ui.more),
    ui.selected, ui.phoneField, ui.error, ui.submit);

  ui.done = el('section', { class: 'booking-done', 'data-testid': 'booking-done', hidden: true, tabindex: '-1' },
    el('h3', { 'data-role': 'done-heading' }),
    el('p', { class: 'booking-when', 'data-testid': 'booking-when' }),
    el('p', { 'data-testid': 'booking-reference' }),
    el('p', { 'data-role': 'address', hidden: true }),
    el('p', { i18n: 'booking.manage_code_intro' }),
    el('p', { class: 'resume-code', 'data-testid': 'booking-manage-code', translate: 'no' }),
    el('p', { class: 'hint', i18n: 'booking.sms_note' }),
    el('div', { class: 'booking-actions' },
      el('button', { type: 'button', class: 'button', 'data-testid': 'booking-calendar', i18n: 'booking.calendar_button', onclick: downloadCalendar }),
      el('button', { type: 'button', class: 'button button-primary', 'data-testid': 'booking-finish', i18n: 'booking.done', onclick: closeDialog })));

  ui.manageInput = el('input', {
    id: 'booking-manage-input', 'data-testid': 'booking-manage-input', autocomplete: 'off', autocapitalize: 'characters',
    spellcheck: 'false', maxlength: '64',
  });
  ui.manageError = el('p', { class: 'notice notice-error', role: 'alert', 'data-testid': 'booking-manage-error', hidden: true });
  ui.manageDetails = el('div', { class: 'booking-managed', 'data-testid': 'booking-managed', hidden: true },
    el('p', { class: 'booking-when', 'data-role': 'managed-when' }),
    el('p', { 'data-testid': 'booking-state', 'data-role': 'managed-state', tabindex: '-1' }),
    el('div', { class: 'booking-actions', 'data-role': 'managed-actions' },
      el('button', { type: 'button', class: 'button button-danger', 'data-testid': 'booking-cancel', i18n: 'booking.cancel_button', onclick: cancelManaged }),
      el('button', { type: 'button', class: 'button', 'data-testid': 'booking-rebook', i18n: 'booking.rebook_button', onclick: startRebook })));
  ui.manage = el('form', { class: 'booking-manage', novalidate: true, hidden: true, onsubmit: onFind },
    el('div', { class: 'field' },
      el('label', { for: 'booking-manage-input', i18n: 'booking.manage_code_label' }), ui.manageInput),
    ui.manageError,
    el('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'booking-manage-find', i18n: 'booking.manage_find' }),
    ui.manageDetails);

  ui.title = el('h2', { id: 'booking-title' });
  ui.dialog = el('dialog', { class: 'dialog booking-dialog', id: 'booking-dialog', 'aria-labelledby': 'booking-title', 'data-testid': 'booking-dialog' },
    el('div', { class: 'booking-dialog-head' }, ui.title,
      el('button', { type: 'button', class: 'button button-quiet', 'data-testid': 'booking-close', i18n: 'common.close', onclick: closeDialog })),
    ui.form, ui.done, ui.manage);
  ui.dialog.addEventListener('close', resetFlow);

  // An in-page question rather than window.confirm(), which blocks the whole page, quick exit included.
  ui.cancelConfirm = el('button', {
    type: 'button', class: 'button button-danger', 'data-testid': 'booking-cancel-confirm', i18n: 'booking.cancel_button',
    onclick: confirmCancel,
  });
  ui.cancelDialog = el('dialog', { class: 'dialog', id: 'booking-cancel-dialog', 'aria-labelledby': 'booking-cancel-title', 'data-testid': 'booking-cancel-dialog' },
    el('h2', { id: 'booking-cancel-title', i18n: 'booking.cancel_confirm' }),
    el('div', { class: 'dialog-actions' },
      el('button', { type: 'button', class: 'button', 'data-testid': 'booking-cancel-keep', i18n: 'booking.cancel_keep', onclick: () => ui.cancelDialog.close() }),
      ui.cancelConfirm));
  document.body.append(ui.dialog, ui.cancelDialog);
}

function mountEntries() {
  const entry = document.getElementById('booking-entry');
  if (entry) {
    entry.replaceChildren(el('section', { class: 'card booking-card', 'aria-labelledby': 'booking-heading' },
      el('h2', { id: 'booking-heading', i18n: 'booking.heading' }),
      el('p', { i18n: 'booking.intro' }),
      el('div', { class: 'booking-actions' },
        el('button', { type: 'button', class: 'button button-primary', 'data-testid': 'booking-open', i18n: 'booking.open_button', onclick: () => openBooking() }),
        el('button', { type: 'button', class: 'button', 'data-testid': 'booking-manage-open', i18n: 'booking.manage_button', onclick: openManage }))));
  }
  const chatEntry = document.getElementById('booking-chat-entry');
  if (chatEntry) {
    chatEntry.replaceChildren(el('button', {
      type: 'button', class: 'button button-quiet', 'data-testid': 'booking-open-chat', i18n: 'booking.open_button',
      onclick: () => openBooking(),
    }));
  }
}

// ---- booking ----------------------------------------------------------------------------------------------------

async function loadOptions() {
  if (state.options) return true;
  const result = await call('GET', '/api/booking/options');
  if (!result.ok) return false;
  state.options = result.data;
  return true;
}

/**
 * Open the booking dialog. `kind` preselects a kind (e.g. the interpreter kind from the waiting screen),
 * `language` the language of the slots; by default the kind chosen last and the page's language.
 */
export async function openBooking({ kind, language: wanted } = {}) {
  if (!(await loadOptions())) return;
  state.mode = 'book';
  const kinds = state.options.kinds.map((k) => k.id);
  state.kind = [kind, state.kind].find((k) => kinds.includes(k)) || kinds[0];
  const languages = state.options.languages;
  state.language = [wanted, language()].find((code) => languages.includes(code)) || languages[0];
  showPart('form');
  await renderForm();
  ui.dialog.showModal();
  refreshSlots();
}

async function renderForm() {
  ui.title.textContent = t(state.mode === 'rebook' ? 'booking.rebook_heading' : 'booking.dialog_heading');
  ui.kinds.replaceChildren(...state.options.kinds.map((kind) => {
    const id = `booking-kind-${kind.id}`;
    const hint = kindHint(kind);
    return el('div', { class: 'booking-kind' },
      el('input', {
        type: 'radio', name: 'booking-kind', id, value: kind.id, 'data-testid': id, checked: kind.id === state.kind,
        disabled: state.mode === 'rebook', onchange: () => { state.kind = kind.id; refreshSlots(); },
      }),
      el('label', { for: id }, el('span', { class: 'booking-kind-name', text: kindName(kind.id) }),
        el('span', { class: 'hint', text: hint })));
  }));
  state.names = await languageNames(state.options.languages);
  renderLanguageOptions();
  ui.languageSelect.disabled = state.mode === 'rebook';
  ui.submit.textContent = t(state.mode === 'rebook' ? 'booking.rebook_submit' : 'booking.submit');
  show(ui.phoneField, state.mode === 'book');
  ui.form.querySelector('[data-role="zone"]').textContent = t('booking.zone_note', { zone: zone() });
  translateDom(ui.dialog);
  renderSelected();
}

function kindHint(kind) {
  if (kind.interpreter) return t('booking.kind_hint_interpreter', { minutes: kind.duration_minutes });
  if (kind.address) return t('booking.kind_hint_address', { minutes: kind.duration_minutes, address: kind.address });
  return t('booking.kind_hint', { minutes: kind.duration_minutes });
}

function interpreterKind() {
  return state.options.kinds.find((kind) => kind.interpreter);
}

/** Each language by its own name; those with free times of the chosen kind say so in the page's language. */
function renderLanguageOptions() {
  const free = state.mode === 'book' ? state.freeLanguages : null;
  ui.languageSelect.replaceChildren(...state.options.languages.map((code) => {
    const name = state.names[code] || code;
    const marked = Boolean(free?.includes(code));
    const option = new Option(marked ? t('booking.language_has_slots', { language: isolate(name) }) : name, code);
    if (!marked) option.lang = code;
    option.dataset.hasSlots = String(marked);
    return option;
  }));
  ui.languageSelect.value = state.language;
}

function onLanguageSelect() {
  state.language = ui.languageSelect.value;
  refreshSlots();
}

function chooseInterpreter() {
  const kind = interpreterKind();
  if (!kind) return;
  state.kind = kind.id;
  const radio = ui.kinds.querySelector(`input[value="${CSS.escape(kind.id)}"]`);
  if (radio) {
    radio.checked = true;
    radio.focus();
  }
  refreshSlots();
}

async function refreshSlots() {
  state.days = DAYS_PER_PAGE;
  state.selected = null;
  renderSelected();
  await Promise.all([loadSlots(), loadOffer()]);
}

function slotWindow() {
  const from = new Date();
  const to = new Date(from.getTime() + state.days * DAY_MS);
  return { from: from.toISOString(), to: to.toISOString() };
}

async function loadSlots() {
  const token = ++state.loadToken;
  state.slotsLoaded = false;
  state.freeLanguages = null;
  ui.slotStatus.textContent = t('common.loading');
  show(ui.otherLanguages, false);
  show(ui.interpreter, false);
  const span = slotWindow();
  const slotQuery = new URLSearchParams({ kind: state.kind, language: state.language, ...span });
  const languageQuery = new URLSearchParams({ kind: state.kind, ...span });
  const [result, languages] = await Promise.all([
    call('GET', `/api/slots?${slotQuery}`),
    state.mode === 'book' ? call('GET', `/api/slots/languages?${languageQuery}`) : null,
  ]);
  if (token !== state.loadToken) return;
  state.freeLanguages = languages?.ok ? languages.data.languages : null;
  state.slots = result.ok ? result.data.slots : [];
  state.slotsLoaded = result.ok;
  ui.slotStatus.textContent = result.ok ? '' : bookingError(result.code);
  show(ui.more, state.days < MAX_DAYS);
  renderLanguageOptions();
  renderSlots();
  renderNoSlots();
}

/** When the chosen language has no free times: which languages have, and the interpreter kind. */
function renderNoSlots() {
  const empty = state.slotsLoaded && state.slots.length === 0;
  const others = (state.freeLanguages || []).filter((code) => code !== state.language);
  const interpreter = interpreterKind();
  show(ui.otherLanguages, empty && others.length > 0);
  show(ui.interpreter, empty && state.mode === 'book' && Boolean(interpreter) && interpreter.id !== state.kind);
  if (!empty) return;
  if (state.mode === 'rebook' || state.freeLanguages?.length === 0) {
    ui.slotStatus.textContent = t('booking.no_slots_any_language');
  } else if (state.freeLanguages === null) {
    ui.slotStatus.textContent = t('booking.no_slots');
  } else {
    ui.slotStatus.textContent = t('booking.no_slots_in_language', { language: isolate(state.names[state.language] || state.language) });
  }
  ui.otherLanguages.textContent = others.length
    ? t('booking.languages_with_slots', { languages: others.map((code) => isolate(state.names[code] || code)).join(LIST_SEPARATOR) })
    : '';
}

async function loadOffer() {
  const conversation = state.mode === 'book' ? loadConversation() : null;
  state.offered = [];
  if (conversation) {
    const result = await call('POST', '/api/appointments/offer', { conversation_token: conversation.token });
    if (result.ok && result.data.offer && result.data.offer.kind === state.kind) state.offered = result.data.offer.slots;
  }
  show(ui.offered, state.offered.length > 0);
  ui.offered.querySelector('.booking-slot-list').replaceChildren(...state.offered.map((slot) => slotButton(slot, true)));
}

function loadMore() {
  state.days = Math.min(state.days + DAYS_PER_PAGE, MAX_DAYS);
  loadSlots();
}

function slotButton(slot, withDay = false) {
  const selected = state.selected?.start === slot.start;
  const label = withDay ? whenText(slot.start) : formatTime(new Date(slot.start), zone());
  return el('button', {
    type: 'button', class: 'booking-slot', 'data-testid': 'booking-slot', 'data-start': slot.start,
    'aria-pressed': String(selected), onclick: () => selectSlot(slot),
  }, label);
}

function renderSlots() {
  const byDay = new Map();
  for (const slot of state.slots) {
    const day = dayHeading(slot.start);
    if (!byDay.has(day)) byDay.set(day, []);
    byDay.get(day).push(slot);
  }
  ui.slotList.replaceChildren(...[...byDay].map(([day, slots]) => el('section', { class: 'booking-day' },
    el('h4', { text: day }),
    el('div', { class: 'booking-slot-list' }, ...slots.map((slot) => slotButton(slot))))));
}

function selectSlot(slot) {
  state.selected = slot;
  renderSlots();
  loadOfferButtons();
  renderSelected();
  (state.mode === 'book' ? ui.phone : ui.submit).focus();
}

function loadOfferButtons() {
  ui.offered.querySelector('.booking-slot-list').replaceChildren(...state.offered.map((slot) => slotButton(slot, true)));
}

function renderSelected() {
  show(ui.selected, Boolean(state.selected));
  ui.selected.textContent = state.selected ? t('booking.selected', { when: whenText(state.selected.start) }) : '';
  showError(ui.error, null);
}

async function onSubmit(event) {
  event.preventDefault();
  if (!state.selected) {
    showError(ui.error, 'choose_slot');
    return;
  }
  if (state.mode === 'book' && !ui.phone.value.trim()) {
    showError(ui.error, 'invalid_phone');
    ui.phone.focus();
    return;
  }
  ui.submit.disabled = true;
  const result = state.mode === 'rebook'
    ? await call('POST', '/api/appointments/rebook', { manage_code: state.manageCode, start: state.selected.start })
    : await call('POST', '/api/appointments', bookingBody());
  ui.submit.disabled = false;
  if (!result.ok) {
    showError(ui.error, result.code);
    if (result.code === 'slot_taken') loadSlots();
    return;
  }
  const booked = state.mode === 'rebook' ? { ...result.data.appointment, manage_code: result.data.manage_code } : result.data;
  ui.phone.value = '';
  showDone(booked);
}

function bookingBody() {
  const body = { kind: state.kind, start: state.selected.start, language: state.language, phone: ui.phone.value.trim() };
  const conversation = loadConversation();
  if (conversation) body.conversation_token = conversation.token;
  return body;
}

function showDone(booked) {
  state.manageCode = booked.manage_code;
  showPart('done');
  const kind = state.options.kinds.find((k) => k.id === (booked.kind || state.kind));
  ui.done.querySelector('[data-role="done-heading"]').textContent = t(state.mode === 'rebook' ? 'booking.moved_heading' : 'booking.confirmed_heading');
  ui.done.querySelector('[data-testid="booking-when"]').textContent = t('booking.confirmed_when', { kind: kindName(kind?.id ?? state.kind), when: whenText(booked.start) });
  ui.done.querySelector('[data-testid="booking-reference"]').textContent = t('booking.reference', { reference: booked.reference });
  const address = ui.done.querySelector('[data-role="address"]');
  address.textContent = kind?.address ? t('booking.address', { address: kind.address }) : '';
  show(address, Boolean(kind?.address));
  ui.done.querySelector('[data-testid="booking-manage-code"]').textContent = booked.manage_code;
  ui.done.focus();
}

async function downloadCalendar() {
  const result = await call('POST', '/api/appointments/calendar', { manage_code: state.manageCode });
  if (!result.ok || !result.blob) return;
  const url = URL.createObjectURL(result.blob);
  const link = el('a', { href: url, download: 'appointment.ics', hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- managing with the code ---------------------------------------------------------------------------------------

async function openManage() {
  if (!(await loadOptions())) return;
  showPart('manage');
  ui.title.textContent = t('booking.manage_heading');
  ui.manageInput.value = '';
  show(ui.manageDetails, false);
  showManageError(null);
  translateDom(ui.dialog);
  ui.dialog.showModal();
  ui.manageInput.focus();
}

function showManageError(code) {
  ui.manageError.textContent = code ? bookingError(code) : '';
  show(ui.manageError, Boolean(code));
}

async function onFind(event) {
  event.preventDefault();
  const code = ui.manageInput.value.trim();
  if (!code) {
    showManageError('unknown_manage_code');
    return;
  }
  const result = await call('POST', '/api/appointments/lookup', { manage_code: code });
  if (!result.ok) {
    show(ui.manageDetails, false);
    showManageError(result.code);
    return;
  }
  showManageError(null);
  state.manageCode = code;
  renderManaged(result.data.appointment);
}

function renderManaged(appointment) {
  state.managed = appointment;
  show(ui.manageDetails, true);
  ui.manageDetails.querySelector('[data-role="managed-when"]').textContent = t('booking.confirmed_when', { kind: kindName(appointment.kind), when: whenText(appointment.start) });
  const stateLine = ui.manageDetails.querySelector('[data-role="managed-state"]');
  stateLine.dataset.state = appointment.state;
  stateLine.textContent = t(`booking.state_${appointment.state}`);
  const changeable = appointment.state === 'booked' && new Date(appointment.start) > new Date();
  show(ui.manageDetails.querySelector('[data-role="managed-actions"]'), changeable);
}

function cancelManaged() {
  translateDom(ui.cancelDialog);
  ui.cancelDialog.showModal();
}

async function confirmCancel() {
  ui.cancelConfirm.disabled = true;
  const result = await call('POST', '/api/appointments/cancel', { manage_code: state.manageCode });
  ui.cancelConfirm.disabled = false;
  ui.cancelDialog.close();
  if (!result.ok) {
    showManageError(result.code);
    return;
  }
  renderManaged(result.data.appointment);
  const stateLine = ui.manageDetails.querySelector('[data-role="managed-state"]');
  stateLine.textContent = t('booking.cancelled');
  stateLine.focus();
}

async function startRebook() {
  state.mode = 'rebook';
  state.kind = state.managed.kind;
  state.language = state.managed.language;
  showPart('form');
  await renderForm();
  refreshSlots();
}

// ---- common -----------------------------------------------------------------------------------------------------

function showPart(part) {
  show(ui.form, part === 'form');
  show(ui.done, part === 'done');
  show(ui.manage, part === 'manage');
}

function closeDialog() {
  ui.dialog.close();
}

function resetFlow() {
  state.selected = null;
  state.manageCode = null;
  state.managed = null;
  state.mode = 'book';
  ui.phone.value = '';
  ui.manageInput.value = '';
  ui.done.querySelector('[data-testid="booking-manage-code"]').textContent = '';
}

/** The page's language changed: the data-i18n texts are done by the page; redo the formatted ones. */
function onLanguageChange() {
  if (!ui.dialog?.open) return;
  if (!ui.form.hidden) {
    renderForm().then(renderNoSlots);
    renderSlots();
    loadOfferButtons();
  }
  if (!ui.manageDetails.hidden && state.managed) renderManaged(state.managed);
}

buildDialog();
mountEntries();
new MutationObserver(onLanguageChange).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
