// How values read on the page: units, rounding, times, and the alarm priority of a severity.

// The trended signs, in the order of the values in each history point the server sends.
// `minSpan` keeps a sparkline from magnifying noise: a line that varies less than this is drawn
// within a band this tall, so a flat 37.0–37.2 °C does not look like a fever spike.
export const TRENDED = [
  { key: 'temperature', label: 'Temp', unit: '°C', digits: 1, minSpan: 1.5 },
  { key: 'heart_rate', label: 'HR', unit: '/min', digits: 0, minSpan: 30 },
  { key: 'systolic_bp', label: 'Sys BP', unit: 'mmHg', digits: 0, minSpan: 30 },
  { key: 'spo2', label: 'SpO₂', unit: '%', digits: 0, minSpan: 8 },
];

// Signs shown as text only.
export const OTHER_SIGNS = [
  { key: 'respiratory_rate', label: 'RR', unit: '/min', digits: 0 },
  { key: 'diastolic_bp', label: 'Dia BP', unit: 'mmHg', digits: 0 },
  { key: 'mean_arterial_pressure', label: 'MAP', unit: 'mmHg', digits: 0 },
];

export const NEWS2_BAND_LABEL = { low: 'low', low_medium: 'low–medium', medium: 'medium', high: 'high' };

// IEC 60601-1-8 alarm priorities: high is red, medium yellow, low cyan. The contract's
// `critical` and `high` severities are both high priority; critical also flashes.
export const PRIORITY_OF_SEVERITY = { critical: 'high', high: 'high', medium: 'medium', low: 'low' };
export const SEVERITY_RANK = { low: 1, medium: 2, high: 3, critical: 4 };

// A value of exactly 0 is the contract's "probe off / signal lost".
export function formatSign(value, digits) {
  if (value === undefined || value === null) return '—';
  if (value === 0) return 'no signal';
  return value.toFixed(digits);
}

// Formatters are built once: building one per call costs more than the rest of a tile update.
// A 24-hour clock, as charts and monitors on a ward use: no AM/PM to misread.
const timeOfDay = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
const dayAndTime = new Intl.DateTimeFormat([], {
  day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
const DAY_MS = 24 * 60 * 60 * 1000;

export function formatTime(iso) {
  if (!iso) return '';
  const ms = Date.parse(iso);
  return Math.abs(Date.now() - ms) < DAY_MS / 2 ? timeOfDay.format(ms) : dayAndTime.format(ms);
}

// Beds are labels like "12", "12A", "ICU-3": sort them as people do, numbers by value.
export const naturalOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;
