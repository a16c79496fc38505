// The statistics page for supervisors and admins (docs/statistics.md): counts over a range of ISO
// weeks split by one or two dimensions, as a table (a cross-tab for two), plots drawn by the server
// as SVG, and the same table as CSV and JSON downloads. Suppressed cells show as "<min_cell".
import { language, t } from '/shared/i18n.js';
import { staffRequest } from '../api.js';
import { el, showError } from '/shared/dom.js';
import { errorText } from '../dom.js';
import { DIMENSIONS, dimensionLabel, valueLabel } from './labels.js';
import { WEEK_PATTERN, lastWeeks } from './weeks.js';

export const STATISTICS_ROLES = new Set(['supervisor', 'admin', 'coordinator']);
const DEFAULT_WEEKS = 12;
const NO_SECOND = '';

const unique = (values) => [...new Map(values.map((v) => [JSON.stringify(v), v])).values()];

export class StatisticsView {
  constructor({ root, nav }) {
    this.root = root;
    this.nav = nav;
    this.answer = null;
    this.build();
  }

  build() {
    this.heading = el('h2', { id: 'statistics-heading' });
    this.intro = el('p', { class: 'statistics__intro' });
    const range = lastWeeks(DEFAULT_WEEKS);
    const weekInput = (name, value) => el('input', {
      type: 'week', name, value, required: true, pattern: WEEK_PATTERN, 'data-testid': `statistics-${name}`,
    });
    this.fromInput = weekInput('from', range.from);
    this.toInput = weekInput('to', range.to);
    this.byFirst = el('select', { name: 'by', 'data-testid': 'statistics-by' });
    this.bySecond = el('select', { name: 'by2', 'data-testid': 'statistics-by2' });
    this.labels = {
      from: el('span'), to: el('span'), by: el('span'), by2: el('span'),
    };
    this.showButton = el('button', { type: 'submit', class: 'button button--primary', 'data-testid': 'statistics-show' });
    this.form = el('form', { class: 'statistics__form', novalidate: true, 'data-testid': 'statistics-form' },
      el('label', { class: 'field' }, this.labels.from, this.fromInput),
      el('label', { class: 'field' }, this.labels.to, this.toInput),
      el('label', { class: 'field' }, this.labels.by, this.byFirst),
      el('label', { class: 'field' }, this.labels.by2, this.bySecond),
      this.showButton);
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.load();
    });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true, 'data-testid': 'statistics-error' });
    this.status = el('p', { class: 'visually-hidden', role: 'status' });
    this.results = el('div', { class: 'statistics__results', 'data-testid': 'statistics-results' });
    this.root.replaceChildren(this.heading, this.intro, this.form, this.error, this.status, this.results);
    this.fillDimensions();
  }

  fillDimensions() {
    const first = this.byFirst.value || 'perspective';
    const second = this.bySecond.value || NO_SECOND;
    this.byFirst.replaceChildren(...DIMENSIONS.map((d) => new Option(dimensionLabel(d), d)));
    this.bySecond.replaceChildren(
      new Option(t('console.statistics.by_none'), NO_SECOND),
      ...DIMENSIONS.map((d) => new Option(dimensionLabel(d), d)),
    );
    this.byFirst.value = first;
    this.bySecond.value = second;
  }

  /** Shows the page's nav button to supervisors and admins only; the server refuses others anyway. */
  start(user) {
    this.nav.hidden = !STATISTICS_ROLES.has(user.role);
    this.retranslate();
  }

  setVisible(visible) {
    if (visible && !this.answer) this.load();
  }

  query() {
    const by = [this.byFirst.value];
    if (this.bySecond.value && this.bySecond.value !== this.byFirst.value) by.push(this.bySecond.value);
    return { from: this.fromInput.value.trim(), to: this.toInput.value.trim(), by };
  }

  async load() {
    showError(this.error, '');
    const query = this.query();
    const pattern = new RegExp(`^${WEEK_PATTERN}$`);
    if (!pattern.test(query.from) || !pattern.test(query.to)) {
      showError(this.error, t('console.statistics.bad_week'));
      return;
    }
    this.showButton.disabled = true;
    try {
      this.answer = await staffRequest('GET', `/api/stats?${params(query)}`);
      this.status.textContent = t('console.statistics.loaded');
    } catch (error) {
      this.answer = null;
      this.results.replaceChildren();
      showError(this.error, error.status === 422 && error.message ? error.message : errorText(error.code));
      return;
    } finally {
      this.showButton.disabled = false;
    }
    this.render();
  }

  render() {
    if (!this.answer) return;
    const answer = this.answer;
    const query = { from: answer.from, to: answer.to, by: answer.by };
    const suppressed = t('console.statistics.suppressed', { min: answer.min_cell });
    const total = el('p', { class: 'statistics__total', 'data-testid': 'statistics-total' },
      answer.total === null
        ? t('console.statistics.total_hidden')
        : t('console.statistics.total', { count: answer.total }));
    const note = el('p', { class: 'statistics__note', 'data-testid': 'statistics-note' },
      t('console.statistics.suppressed_note', { min: answer.min_cell }));
    const table = answer.rows.length
      ? (answer.by.length === 2 ? crossTable(answer, suppressed) : listTable(answer, suppressed))
      : el('p', { class: 'statistics__empty', 'data-testid': 'statistics-empty', text: t('console.statistics.empty') });
    this.results.replaceChildren(
      el('h3', { class: 'statistics__range', text: t('console.statistics.range', { from: answer.from, to: answer.to }) }),
      total, table, note, this.charts(query), this.downloads(query));
  }

  charts(query) {
    const others = query.by.filter((d) => d !== 'week');
    const figure = (chart, by, alt) => el('figure', { class: 'statistics__chart' },
      el('img', {
        src: `/api/stats.svg?${params({ ...query, by })}&chart=${chart}&lang=${encodeURIComponent(language())}`,
        alt, 'data-testid': `statistics-chart-${chart}`, width: 760, loading: 'eager',
      }));
    const charts = [figure('line', ['week', ...others.slice(0, 1)], t('console.statistics.line_alt'))];
    if (others.length) charts.push(figure('bar', others, t('console.statistics.bar_alt')));
    return el('section', { class: 'statistics__charts', 'aria-label': t('console.statistics.charts') }, ...charts);
  }

  downloads(query) {
    const stem = `kinline-statistics-${query.from}-${query.to}-${query.by.join('-')}`;
    const link = (format) => el('a', {
      class: 'button button--quiet', href: `/api/stats.${format}?${params(query)}`, download: `${stem}.${format}`,
      'data-testid': `statistics-${format}`, text: t(`console.statistics.download_${format}`),
    });
    const print = el('button', {
      type: 'button', class: 'button button--quiet', onclick: () => window.print(), text: t('console.statistics.print'),
    });
    return el('p', { class: 'statistics__downloads' }, link('csv'), link('json'), print);
  }

  retranslate() {
    this.heading.textContent = t('console.statistics.heading');
    this.intro.textContent = t('console.statistics.intro');
    this.labels.from.textContent = t('console.statistics.from');
    this.labels.to.textContent = t('console.statistics.to');
    this.labels.by.textContent = t('console.statistics.by');
    this.labels.by2.textContent = t('console.statistics.by_second');
    this.showButton.textContent = t('console.statistics.show');
    this.fillDimensions();
    this.render();
  }

  clear() {
    this.answer = null;
    this.results.replaceChildren();
    showError(this.error, '');
  }
}

function params({ from, to, by }) {
  return new URLSearchParams({ from, to, by: by.join(',') }).toString();
}

function countText(row, suppressed) {
  if (!row) return '0';
  return row.suppressed || row.count === null ? suppressed : String(row.count);
}

function countCell(row, suppressed) {
  const hidden = !row ? false : row.suppressed || row.count === null;
  return el('td', { class: hidden ? 'statistics__count statistics__count--suppressed' : 'statistics__count' },
    countText(row, suppressed));
}

function caption(answer) {
  return el('caption', { text: t('console.statistics.caption', {
    by: answer.by.map(dimensionLabel).join(' × '), from: answer.from, to: answer.to,
  }) });
}

function listTable(answer, suppressed) {
  const [dimension] = answer.by;
  const head = el('tr', {},
    el('th', { scope: 'col', text: dimensionLabel(dimension) }),
    el('th', { scope: 'col', class: 'statistics__count', text: t('console.statistics.count') }));
  const rows = answer.rows.map((row) => el('tr', { 'data-testid': 'statistics-row' },
    el('th', { scope: 'row', text: valueLabel(dimension, row.key[dimension]) }),
    countCell(row, suppressed)));
  return el('table', { class: 'statistics__table', 'data-testid': 'statistics-table' },
    caption(answer), el('thead', {}, head), el('tbody', {}, ...rows));
}

function crossTable(answer, suppressed) {
  const [down, across] = answer.by;
  const downValues = unique(answer.rows.map((row) => row.key[down] ?? null));
  const acrossValues = unique(answer.rows.map((row) => row.key[across] ?? null));
  const cells = new Map(answer.rows.map((row) => [JSON.stringify([row.key[down] ?? null, row.key[across] ?? null]), row]));
  const head = el('tr', {},
    el('th', { scope: 'col', text: `${dimensionLabel(down)} / ${dimensionLabel(across)}` }),
    ...acrossValues.map((value) => el('th', { scope: 'col', class: 'statistics__count', text: valueLabel(across, value) })));
  const rows = downValues.map((value) => el('tr', { 'data-testid': 'statistics-row' },
    el('th', { scope: 'row', text: valueLabel(down, value) }),
    ...acrossValues.map((other) => countCell(cells.get(JSON.stringify([value, other])), suppressed))));
  return el('div', { class: 'statistics__scroll', tabindex: '0', role: 'region', 'aria-label': t('console.statistics.table_region') },
    el('table', { class: 'statistics__table', 'data-testid': 'statistics-table' },
      caption(answer), el('thead', {}, head), el('tbody', {}, ...rows)));
}
