// Words for the statistics dimensions and their values. The catalog section of each dimension's
// values matches LABEL_SECTIONS in server/transports/http/stats_chart_routes.py (the plots' labels).
import { t } from '/shared/i18n.js';
import { labelFor } from '../dom.js';

export const DIMENSIONS = ['perspective', 'topic', 'language', 'outcome', 'channel', 'district', 'milieu', 'week'];

const SECTIONS = {
  perspective: 'console.statistics.perspectives',
  topic: 'topics',
  language: 'console.statistics.languages',
  outcome: 'outcomes',
  channel: 'console.statistics.channels',
  milieu: 'console.statistics.milieus',
};

export function dimensionLabel(dimension) {
  return labelFor('console.statistics.dimensions', dimension);
}

/** A value of a dimension in words; a missing value (no milieu set, say) is "not set". */
export function valueLabel(dimension, value) {
  if (value === null || value === undefined) return t('console.statistics.not_set');
  const section = SECTIONS[dimension];
  return section ? labelFor(section, value) : String(value);
}
