// What the escalations view knows: the signed-in user, the configuration (kinds, routes, indicators),
// the list, the filter and the open escalation. No DOM and no HTTP here.
import { language } from '/shared/i18n.js';

const CHAT_ROLES = new Set(['counsellor', 'supervisor', 'admin']);
const DRAFTING_ROLES = new Set(['counsellor', 'supervisor']);
const ESCALATION_ROLES = new Set(['counsellor', 'supervisor', 'social_services']);
const OPEN_STATES = new Set(['sent', 'acknowledged', 'received', 'under_assessment', 'awaiting_approval', 'sent_back']);
const OUTCOME_STATES = ['received', 'under_assessment', 'closed_with_feedback'];
export const CONTACT_FIELDS = ['name', 'phone', 'email', 'preferred_time'];

/** Whether the role sees the view named by a top bar button: every role sets up its own two-factor sign-in. */
export function roleSeesView(role, view) {
  if (view === 'security') return true;
  return view === 'escalations' ? ESCALATION_ROLES.has(role) : CHAT_ROLES.has(role);
}

export const mayEscalate = (role) => DRAFTING_ROLES.has(role);
export const seesEscalations = (role) => ESCALATION_ROLES.has(role);

export function isOverdue(item, now = Date.now()) {
  return Boolean(item.state === 'sent' && item.deadline && new Date(item.deadline).getTime() <= now);
}

/** The outcome states that may still follow the current state, in order. */
export function outcomesAfter(state) {
  const order = OUTCOME_STATES.indexOf(state);
  return OUTCOME_STATES.filter((_state, index) => index > order);
}

export class EscalationsState {
  constructor() {
    this.reset();
  }

  reset() {
    this.user = null;
    this.config = null;
    this.items = [];
    this.selectedId = null;
    this.detail = null;
    this.filter = null;
  }

  begin(user) {
    this.user = user;
    this.filter = this.role === 'supervisor' ? 'awaiting_approval' : 'all';
  }

  get role() {
    return this.user?.role;
  }

  filterNames() {
    if (this.role === 'supervisor') return ['awaiting_approval', 'open', 'all'];
    if (this.role === 'social_services') return ['open', 'all'];
    return ['all'];
  }

  visibleItems() {
    if (this.filter === 'awaiting_approval') return this.items.filter((item) => item.state === 'awaiting_approval');
    if (this.filter === 'open') return this.items.filter((item) => OPEN_STATES.has(item.state) && item.state !== 'awaiting_approval');
    return this.items;
  }

  item(id) {
    return this.items.find((i) => i.escalation_id === id);
  }

  // ---- configuration lookups ----

  kindConfig(kind) {
    return this.config?.kinds.find((k) => k.id === kind);
  }

  kindText(kind) {
    const texts = this.kindConfig(kind)?.texts || {};
    return texts[language()] || texts.en || texts.sv || {};
  }

  kindTitle(kind) {
    return this.kindText(kind).title || kind;
  }

  routeName(id) {
    return this.config?.routes.find((r) => r.id === id)?.name || id;
  }

  indicatorLabel(id) {
    const labels = this.config?.indicators.find((i) => i.id === id)?.labels || {};
    return labels[language()] || labels.en || labels.sv || id;
  }
}
