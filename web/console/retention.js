// The admins' Retention section (shown in the Accounts view): what the retention sweeps closed as
// inactive and deleted, counts only (GET /api/staff/retention): the last sweep and the totals of
// the last 30 days, with the two settings that drive them in words, and a Refresh button.
import { t } from '/shared/i18n.js';
import { staffRequest } from './api.js';
import { el, showError } from '/shared/dom.js';
import { formatNumber, localDateTime, tCount } from '/shared/format.js';
import { errorText } from './dom.js';

const PATH = '/api/staff/retention';
const COUNTS = ['closed_inactive', 'conversations', 'messages', 'notes', 'tokens'];
const UNITS = [['days', 86400], ['hours', 3600], ['minutes', 60], ['seconds', 1]];

const words = (key, params) => t(`console.retention.${key}`, params);

/** A whole number of seconds in the largest unit that divides it: "30 days", "2 seconds". */
export function durationText(seconds) {
  const [unit, size] = UNITS.find(([, length]) => seconds % length === 0 && seconds >= length) || UNITS[3];
  return tCount(`console.retention.${unit}`, seconds / size);
}

export class RetentionSection {
  constructor() {
    this.report = null;
    this.heading = el('h3', { id: 'retention-heading' });
    this.intro = el('p', { class: 'accounts__intro' });
    this.refreshButton = el('button', { type: 'button', class: 'button button--quiet', 'data-testid': 'retention-refresh', onclick: () => this.load() });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'retention-error' });
    this.settings = el('ul', { class: 'retention__settings', 'data-testid': 'retention-settings' });
    this.body = el('div', { class: 'retention__body', 'data-testid': 'retention-body' });
    this.root = el('section', { class: 'retention', 'aria-labelledby': 'retention-heading', 'data-testid': 'retention-section' },
      el('div', { class: 'accounts__list-head' }, this.heading, this.refreshButton), this.intro, this.error, this.settings, this.body);
  }

  async load() {
    showError(this.error, '');
    try {
      this.report = await staffRequest('GET', PATH);
    } catch (error) {
      this.report = null;
      this.settings.replaceChildren();
      this.body.replaceChildren();
      showError(this.error, errorText(error.code));
      return;
    }
    this.render();
  }

  render() {
    const report = this.report;
    if (!report) return;
    this.settings.replaceChildren(
      el('li', { 'data-testid': 'retention-chat-retention', text: words('chat_retention', { time: durationText(report.chat_retention_seconds) }) }),
      el('li', { 'data-testid': 'retention-auto-close', text: typeof report.auto_close_after_seconds !== 'number'
        ? words('auto_close_off')
        : words('auto_close', { time: durationText(report.auto_close_after_seconds) }) }));
    const last = report.last_sweep;
    const head = el('tr', {}, ...['what', 'last', 'totals'].map((key) => el('th', { scope: 'col', text: words(`columns.${key}`) })));
    const rows = COUNTS.map((key) => el('tr', { 'data-testid': `retention-row-${key}` },
      el('th', { scope: 'row', text: words(`counts.${key}`) }),
      el('td', { 'data-testid': 'retention-last', text: last ? formatNumber(last.counts[key]) : '—' }),
      el('td', { 'data-testid': 'retention-total', text: formatNumber(report.totals[key]) })));
    this.body.replaceChildren(
      el('p', { 'data-testid': 'retention-last-sweep', text: last ? words('last_sweep', { when: localDateTime(last.ran_at) }) : words('no_sweep') }),
      el('p', { 'data-testid': 'retention-sweeps', text: report.since
        ? tCount('console.retention.sweeps', report.sweeps, { since: localDateTime(report.since) })
        : words('no_sweeps') }),
      el('table', { class: 'audit retention__table', 'data-testid': 'retention-table', 'aria-labelledby': 'retention-heading' },
        el('thead', {}, head), el('tbody', {}, ...rows)));
  }

  retranslate() {
    this.heading.textContent = words('heading');
    this.intro.textContent = words('intro');
    this.refreshButton.textContent = words('refresh');
    this.render();
  }

  clear() {
    this.report = null;
    this.settings.replaceChildren();
    this.body.replaceChildren();
    showError(this.error, '');
  }
}
