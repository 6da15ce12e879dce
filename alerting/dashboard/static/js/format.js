// How values read on the page: units, rounding, times, and the alarm priority of a severity.

// Words, units and precision of every observation come from the server's catalogue
// (GET /api/observations, read from monitor/catalogue.py), not restated here. Modules that import
// this one wait for it (a module-level await): a tile drawn without its units would mislead.
// Which signs a tile trends or lists, and how far a sparkline may stretch, are the page's choices.
export const OBSERVATIONS = await loadObservations();
const OBSERVATION_BY_NAME = new Map(OBSERVATIONS.map((entry) => [entry.name, entry]));

async function loadObservations() {
  // A page loaded while the server restarts asks again a few times before doing without.
  for (const waitMs of [0, 500, 1000, 2000, 4000]) {
    if (waitMs) await new Promise((resolve) => { setTimeout(resolve, waitMs); });
    try {
      const response = await fetch('/api/observations', { credentials: 'same-origin' });
      if (response.ok) return (await response.json()).observations;
    } catch (error) {
      // The server is not answering: try again, then let the names stand in below.
    }
  }
  return [];
}

// The vital signs, in the catalogue's display order (the server sends it in that order).
export const VITAL_SIGNS = OBSERVATIONS.filter((entry) => entry.kind === 'vital_sign').map((entry) => entry.name);

// A sign as the page shows it; without the catalogue its name stands in and no unit is guessed.
export function signOf(key, extra = {}) {
  const entry = OBSERVATION_BY_NAME.get(key);
  return {
    key, label: entry ? entry.short_label : key, unit: entry ? entry.unit : '',
    digits: entry ? entry.digits : 1, ...extra,
  };
}

// The lab tests, in the catalogue's display order; their words, units and precision as for a sign.
export const LAB_TESTS = OBSERVATIONS.filter((entry) => entry.kind === 'lab').map((entry) => entry.name);

// What a tile's organ line says: an AKI (KDIGO stage ≥ 1), a lab of CTCAE grade ≥ 2 and an ICANS
// grade ≥ 1, from the status's optional parts (each absent until the worker computes it). The
// thresholds of the stage and the grades are the worker's (monitor/config.py); these only say
// which of its results are worth a line on a tile of 200.
export function organFindings(status) {
  const found = [];
  if (status.kidney && status.kidney.aki_stage >= 1) found.push(`AKI stage ${status.kidney.aki_stage}`);
  const labs = status.labs || {};
  for (const test of LAB_TESTS) {
    const lab = labs[test];
    if (lab && typeof lab.grade === 'number' && lab.grade >= 2) found.push(`${signOf(test).label} G${lab.grade}`);
  }
  if (status.icans && status.icans.grade >= 1) found.push(`ICANS ${status.icans.grade}`);
  return found;
}

// The trended signs, in the order of the values in each history point the server sends.
// `minSpan` keeps a sparkline from magnifying noise: a line that varies less than this is drawn
// within a band this tall, so a flat 37.0–37.2 °C does not look like a fever spike.
export const TRENDED = [
  signOf('temperature', { minSpan: 1.5 }),
  signOf('heart_rate', { minSpan: 30 }),
  signOf('systolic_bp', { minSpan: 30 }),
  signOf('spo2', { minSpan: 8 }),
];

// Signs shown as text only.
export const OTHER_SIGNS = ['respiratory_rate', 'diastolic_bp', 'mean_arterial_pressure'].map((key) => signOf(key));

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
