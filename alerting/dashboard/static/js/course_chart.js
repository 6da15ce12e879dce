// One patient's course as one SVG: the vital signs on a shared time axis, NEWS2 and the CRS grade
// as bands beneath, every alert episode as a span coloured by its priority, clinical events as
// marks across all panels.
//
// Built with DOM calls, never from HTML strings: reasons, names and identifiers come from
// messages and must not become markup. A line with more points than the chart has pixels is
// drawn as each pixel column's lowest and highest value, so 14 days of minutes cost what a
// screen's width costs and a one-minute fever peak is still drawn.

import { PRIORITY_OF_SEVERITY, signOf } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_JOIN_MINUTES = 5; // a longer gap is drawn as a break: the signal was lost
const MINUTE_MS = 60000;

// A panel: its title (null: its first sign's short label), unit and precision from the catalogue
// (format.js), the signs drawn in it, the smallest span of its axis, and its thresholds.
function panel(key, title, series, minSpan, thresholds) {
  const first = signOf(series[0]);
  return { key, label: title || first.label, unit: first.unit, digits: first.digits, minSpan, series, thresholds };
}

// Thresholds drawn as dashed lines, from the clinical reference: fever (ASTCT), hypotension
// (systolic < 90, MAP < 65), hypoxia on air (SpO2 <= 93 %).
export const PANELS = [
  panel('temperature', null, ['temperature'], 2, [[38.0, 'fever 38.0']]),
  panel('heart_rate', null, ['heart_rate'], 40, []),
  panel('bp', 'BP', ['systolic_bp', 'diastolic_bp', 'mean_arterial_pressure'], 60, [[90, 'sys 90'], [65, 'MAP 65']]),
  panel('spo2', null, ['spo2'], 10, [[93, '93']]),
  panel('respiratory_rate', null, ['respiratory_rate'], 14, []),
];

const NEWS2_CLASS = ['low', 'low_medium', 'medium', 'high'];
const THERAPY = { 'car-t': 'CAR-T', bispecific: 'Bispecific', 'other-immunotherapy': 'Immunotherapy',
  infection: 'Infection' };
const DEVICE = { room_air: 'room air', blow_by: 'blow-by', nasal_cannula: 'nasal cannula',
  high_flow_nasal_cannula: 'high-flow cannula', face_mask: 'face mask', non_rebreather: 'non-rebreather',
  venturi: 'Venturi mask', cpap: 'CPAP', bipap: 'BiPAP', ventilator: 'ventilator' };
const DRUG = { tocilizumab: 'Tocilizumab', siltuximab: 'Siltuximab', corticosteroid: 'Steroid',
  antipyretic: 'Antipyretic' };

// What a clinical event says, in words: the label of its mark and its details.
export function describeEvent(event) {
  switch (event.type) {
    case 'therapy': return `${THERAPY[event.therapy] || event.therapy} (day 0)`;
    case 'oxygen': {
      if (event.device === 'room_air') return 'O₂ off (room air)';
      const flow = event.flow_l_min !== undefined ? ` ${event.flow_l_min} L/min` : '';
      return `O₂ ${DEVICE[event.device] || event.device}${flow}`;
    }
    case 'vasopressor':
      if (!event.count && !event.vasopressin) return 'Vasopressors off';
      return `Vasopressor ×${event.count}${event.vasopressin ? ' + vasopressin' : ''}`;
    case 'medication': return DRUG[event.drug] || event.drug;
    case 'spo2_target': return `SpO₂ scale ${event.scale}`;
    case 'discharge': return 'Discharge';
    default: return event.type;
  }
}

function el(tag, attributes, parent) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  if (parent) parent.appendChild(element);
  return element;
}

function text(parent, x, y, content, attributes = {}) {
  const element = el('text', { x, y, ...attributes }, parent);
  element.textContent = content;
  return element;
}

function titled(element, content) {
  el('title', {}, element).textContent = content;
  return element;
}

function niceStep(span, count) {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 2.5, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

const clock = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dayMonth = new Intl.DateTimeFormat([], { day: 'numeric', month: 'short' });
const stamp = new Intl.DateTimeFormat([], { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
  hourCycle: 'h23' });
export const formatStamp = (ms) => stamp.format(ms);

// `course` as /api/patients/{id}/course sends it; `width` in CSS pixels.
export function drawCourse(container, course, width) {
  const narrow = width < 600;
  const left = narrow ? 46 : 64;
  const right = narrow ? 8 : 16;
  const plot = Math.max(50, width - left - right);
  const panelHeight = narrow ? 64 : 86;
  const firstMs = Date.parse(course.from);
  const lastMs = Math.max(Date.parse(course.to), firstMs + MINUTE_MS);
  const x = (ms) => left + ((ms - firstMs) / (lastMs - firstMs)) * plot;
  const xMinute = (minute) => x(minute * MINUTE_MS);
  const minutes = course.minutes;
  const values = course.values;

  const episodesByRule = new Map();
  for (const episode of course.episodes) {
    if (!episodesByRule.has(episode.rule)) episodesByRule.set(episode.rule, []);
    episodesByRule.get(episode.rule).push(episode);
  }
  const laneHeight = narrow ? 40 : 20; // 44 px a lane on a phone: a finger's target
  const eventRowHeight = 18;
  let y = 4;
  const layout = { events: y };
  y += eventRowHeight * 2 + 6;
  layout.panels = PANELS.map((panel) => {
    const top = y;
    y += panelHeight + 6;
    return { panel, top, height: panelHeight };
  });
  layout.news2 = y; y += 18;
  layout.crs = y + 2; y += 22;
  // Lanes of the sparse observations, only for a patient who has them: ICANS (grade band, ICE
  // points) and labs (one marker per time a sample was resulted).
  const hasIcans = course.icans.length > 0 || course.neuro.length > 0;
  const pointRowHeight = narrow ? 40 : 24; // 40 px + the gap: a finger's target on a phone
  if (hasIcans) {
    layout.icans = y + 2; y += 22;
    layout.ice = y; y += pointRowHeight + 2;
  }
  if (course.labs.length) {
    layout.labs = y; y += pointRowHeight + 2;
  }
  layout.alerts = y + 4; y += 4 + Math.max(1, episodesByRule.size) * (laneHeight + 4);
  layout.axis = y; y += narrow ? 40 : 36;
  const height = y;

  const svg = el('svg', { class: 'course', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Course of ${course.patient_id} from ${formatStamp(firstMs)} to ${formatStamp(lastMs)}` });
  svg.dataset.rows = String(minutes.length);
  svg.dataset.newestMinute = minutes.length ? String(minutes[minutes.length - 1]) : '';

  // -- time axis: gridlines every few hours, and the day of the risk period --------------------
  const spanHours = (lastMs - firstMs) / 3600000;
  const stepHours = spanHours <= 8 ? 1 : spanHours <= 30 ? (narrow ? 6 : 3) : spanHours <= 80 ? 12
    : spanHours <= 24 * 8 ? 24 : 48;
  const grid = el('g', { class: 'grid' }, svg);
  const bottom = layout.alerts - 4;
  const start = new Date(firstMs);
  start.setMinutes(0, 0, 0);
  for (let ms = start.getTime(); ms <= lastMs; ms += 3600000) {
    const local = new Date(ms);
    const hour = local.getHours();
    if (ms < firstMs || hour % Math.min(stepHours, 24) !== 0) continue;
    if (stepHours === 48 && Math.floor(ms / 86400000) % 2) continue;
    el('line', { x1: x(ms), x2: x(ms), y1: layout.panels[0].top, y2: bottom, class: 'gridline' }, grid);
    text(grid, x(ms), layout.axis + 14, hour === 0 ? dayMonth.format(ms) : clock.format(ms),
      { class: 'axis-label', 'text-anchor': 'middle' });
  }
  if (course.therapy) {
    const day0 = Date.parse(course.therapy.ts);
    const dayStep = spanHours > 24 * 8 && narrow ? 2 : 1;
    for (let day = Math.max(0, Math.ceil((firstMs - day0) / 86400000)); day0 + day * 86400000 <= lastMs; day += 1) {
      if (day % dayStep) continue;
      const ms = day0 + day * 86400000;
      const anchor = x(ms) > left + plot - 24 ? 'end' : x(ms) < left + 24 ? 'start' : 'middle';
      text(grid, x(ms), layout.axis + 30, `day ${day}`, { class: 'axis-day', 'text-anchor': anchor });
    }
  }

  // -- vital-sign panels ---------------------------------------------------------------------
  for (const { panel, top, height: h } of layout.panels) {
    const group = el('g', { class: 'panel', 'data-panel': panel.key }, svg);
    el('rect', { x: left, y: top, width: plot, height: h, class: 'panel-ground' }, group);
    let low = Infinity;
    let high = -Infinity;
    for (const key of panel.series) {
      for (const value of values[key]) {
        if (value === null) continue;
        if (value < low) low = value;
        if (value > high) high = value;
      }
    }
    const hasData = low !== Infinity;
    for (const [level] of panel.thresholds) {
      if (!hasData) break;
      low = Math.min(low, level);
      high = Math.max(high, level);
    }
    if (!hasData) { low = 0; high = 1; }
    if (high - low < panel.minSpan) {
      const middle = (high + low) / 2;
      low = middle - panel.minSpan / 2;
      high = middle + panel.minSpan / 2;
    }
    const pad = (high - low) * 0.08;
    low -= pad; high += pad;
    const yOf = (value) => top + h - ((value - low) / (high - low)) * h;
    const step = niceStep(high - low, 3);
    for (let tick = Math.ceil(low / step) * step; tick <= high; tick += step) {
      el('line', { x1: left, x2: left + plot, y1: yOf(tick), y2: yOf(tick), class: 'tickline' }, group);
      // The top of the margin holds the panel's name and unit: no tick label there.
      if (yOf(tick) > top + 32) {
        text(group, left - 4, yOf(tick) + 4, tick.toFixed(step < 1 ? 1 : 0), { class: 'tick-label', 'text-anchor': 'end' });
      }
    }
    for (const [level, label] of panel.thresholds) {
      if (!hasData) break;
      el('line', { x1: left, x2: left + plot, y1: yOf(level), y2: yOf(level), class: 'threshold' }, group);
      text(group, left + plot - 2, yOf(level) - 3, label, { class: 'threshold-label', 'text-anchor': 'end' });
    }
    text(group, 4, top + 13, panel.label, { class: 'panel-label' });
    text(group, 4, top + 27, panel.unit, { class: 'panel-unit' });
    if (!hasData) text(group, left + plot / 2, top + h / 2 + 4, 'no readings in this span',
      { class: 'no-data', 'text-anchor': 'middle' });
    for (const key of panel.series) {
      const dense = minutes.length > plot * 2;
      const d = linePath(minutes, values[key], xMinute, yOf, plot);
      if (d) el('path', { d, class: `line line-${key}${dense ? ' dense' : ''}`, 'data-series': key }, group);
    }
  }

  // -- NEWS2 and CRS grade bands -------------------------------------------------------------
  const bands = el('g', { class: 'bands' }, svg);
  text(bands, 4, layout.news2 + 12, 'NEWS2', { class: 'band-label' });
  drawBand(bands, bandRuns(minutes, values.news2_band, xMinute), layout.news2, minutes, xMinute, (run) => {
    const band = NEWS2_CLASS[run.value];
    let worst = 0;
    for (let index = run.start; index <= run.end; index += 1) {
      if (values.news2[index] !== null && values.news2[index] > worst) worst = values.news2[index];
    }
    return { cls: `band news2-band-${band}`, data: { 'data-band': band }, label: String(worst),
      title: `NEWS2 up to ${worst} (${band.replace('_', '–')})` };
  });
  text(bands, 4, layout.crs + 12, 'CRS', { class: 'band-label' });
  drawBand(bands, bandRuns(minutes, values.crs_grade, xMinute), layout.crs, minutes, xMinute, (run) => ({
    cls: `band crs-band-${Math.min(run.value, 3)}`, data: { 'data-grade': run.value },
    label: run.value > 0 ? String(run.value) : '', title: `provisional CRS grade ${run.value}` }));

  if (hasIcans) drawIcans(bands, course, layout, pointRowHeight, x, firstMs, lastMs);
  if (course.labs.length) drawLabLane(bands, course, layout.labs, pointRowHeight, x, firstMs, lastMs, left, plot, narrow);

  // -- alert episodes: one lane per rule, one span per episode, one segment per severity ------
  const lanes = el('g', { class: 'episodes' }, svg);
  let lane = 0;
  for (const [rule, episodes] of episodesByRule) {
    const top = layout.alerts + lane * (laneHeight + 4);
    text(lanes, 4, top + laneHeight - 6, rule.replace('_', ' '), { class: 'band-label' });
    for (const episode of episodes) {
      const group = el('g', { class: 'span', 'data-episode-id': episode.episode_id, tabindex: 0,
        role: 'button', 'aria-label': `${rule} alert episode: details` }, lanes);
      const live = episode.changes.filter((change) => change.status !== 'resolved');
      const endMs = episode.resolved_at ? Date.parse(episode.resolved_at) : lastMs;
      if (live.length) { // a short episode is a sliver: its target is at least 22 px wide
        const hitFrom = x(Math.max(firstMs, Date.parse(live[0].at))) - 11;
        const hitTo = x(Math.min(lastMs, endMs)) + 11;
        el('rect', { x: hitFrom, y: top - 2, width: Math.max(22, hitTo - hitFrom), height: laneHeight + 4,
          class: 'span-hit' }, group);
      }
      live.forEach((change, index) => {
        const fromMs = Math.max(firstMs, Date.parse(change.at));
        const toMs = Math.min(lastMs, index + 1 < live.length ? Date.parse(live[index + 1].at) : endMs);
        if (toMs < firstMs || fromMs > lastMs) return;
        const priority = PRIORITY_OF_SEVERITY[change.severity];
        const segment = el('rect', { x: x(fromMs), y: top, width: Math.max(3, x(toMs) - x(fromMs)), height: laneHeight,
          class: `segment priority-${priority}`, 'data-severity': change.severity }, group);
        titled(segment, `${change.severity.toUpperCase()} ${rule} from ${formatStamp(Date.parse(change.at))}: `
          + change.reasons.join('; '));
      });
      for (const ack of episode.acks) {
        const ms = Date.parse(ack.at);
        if (ms < firstMs || ms > lastMs) continue;
        const ax = x(ms);
        titled(el('path', { d: `M${ax - 5} ${top - 2}L${ax + 5} ${top - 2}L${ax} ${top + 7}Z`, class: 'ack-mark' }, group),
          `acknowledged by ${ack.by} at ${formatStamp(ms)}`);
      }
    }
    lane += 1;
  }
  if (!episodesByRule.size) {
    text(lanes, left + 4, layout.alerts + laneHeight - 6, 'no alert episodes in this span', { class: 'no-data' });
  }

  // -- clinical events: a line through every panel, a label in two rows above them ----------
  const marks = el('g', { class: 'marks' }, svg);
  const rowEnds = [-Infinity, -Infinity];
  course.events.forEach((event, index) => {
    const ms = Date.parse(event.ts);
    if (ms < firstMs || ms > lastMs) return;
    const mx = x(ms);
    const words = describeEvent(event);
    const group = el('g', { class: 'mark', 'data-type': event.type, 'data-event-index': index, 'data-x': mx.toFixed(1), tabindex: 0,
      role: 'button', 'aria-label': words }, marks);
    titled(group, `${words}, ${formatStamp(ms)}`);
    el('line', { x1: mx, x2: mx, y1: layout.events + eventRowHeight, y2: bottom, class: 'event-line' }, group);
    // A line is a pixel wide: a finger needs a target of 44 px (transparent, over the labels).
    el('rect', { x: mx - 22, y: 0, width: 44, height: 44, class: 'mark-hit' }, group);
    const label = narrow ? words.replace(/ \(day 0\)/, ' d0').slice(0, 14) : words;
    const labelWidth = label.length * (narrow ? 6.2 : 7) + 10;
    const row = rowEnds.findIndex((end) => end < mx);
    const labelX = Math.min(mx, left + plot - labelWidth);
    if (row >= 0) {
      const top = layout.events + row * eventRowHeight;
      el('rect', { x: labelX, y: top, width: labelWidth, height: eventRowHeight - 2, rx: 3, class: 'mark-chip' }, group);
      text(group, labelX + 5, top + 12, label, { class: 'mark-text' });
      rowEnds[row] = labelX + labelWidth + 2;
    } else {
      el('circle', { cx: mx, cy: layout.events + eventRowHeight - 4, r: 4, class: 'mark-dot' }, group);
    }
  });

  container.replaceChildren(svg);
  return svg;
}

// The ICANS grade as a band from each change to the next (the assessment in force), and each
// bedside assessment as a point with its ICE score (10 is normal) beneath it.
function drawIcans(group, course, layout, rowHeight, x, firstMs, lastMs) {
  text(group, 4, layout.icans + 12, 'ICANS', { class: 'band-label' });
  course.icans.forEach((change, index) => {
    const fromMs = Math.max(firstMs, Date.parse(change.at));
    const next = course.icans[index + 1];
    const toMs = Math.min(lastMs, next ? Date.parse(next.at) : lastMs);
    if (toMs <= fromMs) return;
    const x1 = x(fromMs);
    const x2 = x(toMs);
    const rect = el('rect', { x: x1, y: layout.icans, width: Math.max(1, x2 - x1), height: 16,
      class: `band icans-band-${Math.min(change.grade, 3)}`, 'data-grade': change.grade }, group);
    titled(rect, `provisional ICANS grade ${change.grade}, ${formatStamp(fromMs)} – ${formatStamp(toMs)}`);
    if (change.grade > 0 && x2 - x1 > 22) {
      text(group, (x1 + x2) / 2, layout.icans + 12, String(change.grade), { class: 'band-text', 'text-anchor': 'middle' });
    }
  });
  text(group, 4, layout.ice + rowHeight / 2 + 4, 'ICE', { class: 'band-label' });
  course.neuro.forEach((assessment, index) => {
    const ms = Date.parse(assessment.ts);
    if (ms < firstMs || ms > lastMs) return;
    const cx = x(ms);
    const score = assessment.ice === undefined ? '–' : String(assessment.ice);
    const words = describeNeuro(assessment);
    const point = el('g', { class: 'ice-point', 'data-neuro-index': index, 'data-ice': assessment.ice ?? '',
      'data-x': cx.toFixed(1), tabindex: 0, role: 'button', 'aria-label': words }, group);
    titled(point, `${words}, ${formatStamp(ms)}`);
    el('rect', { x: cx - 22, y: layout.ice, width: 44, height: rowHeight, class: 'mark-hit' }, point);
    el('circle', { cx, cy: layout.ice + rowHeight / 2, r: 8 }, point);
    text(point, cx, layout.ice + rowHeight / 2 + 4, score, { 'text-anchor': 'middle' });
  });
}

// One marker for each time results came (a panel of tests drawn together is one sample), with
// the test's short name where there is room; the values are in the labs table and on a tap.
function drawLabLane(group, course, top, rowHeight, x, firstMs, lastMs, left, plot, narrow) {
  text(group, 4, top + rowHeight / 2 + 4, 'Labs', { class: 'band-label' });
  const byTime = new Map();
  course.labs.forEach((lab, index) => {
    const ms = Date.parse(lab.ts);
    if (ms < firstMs || ms > lastMs) return;
    if (!byTime.has(ms)) byTime.set(ms, []);
    byTime.get(ms).push(index);
  });
  let labelEnd = -Infinity;
  const times = [...byTime.keys()].sort((a, b) => a - b);
  times.forEach((ms, order) => {
    const indexes = byTime.get(ms);
    const cx = x(ms);
    const nextX = order + 1 < times.length ? x(times[order + 1]) - 6 : left + plot;
    const tests = indexes.map((index) => signOf(course.labs[index].test).label);
    const words = indexes.map((index) => describeLab(course.labs[index])).join(', ');
    const mark = el('g', { class: 'lab-mark', 'data-lab-indexes': indexes.join(','), 'data-x': cx.toFixed(1),
      tabindex: 0, role: 'button', 'aria-label': words }, group);
    titled(mark, `${words}, ${formatStamp(ms)}`);
    el('rect', { x: cx - 22, y: top, width: 44, height: rowHeight, class: 'mark-hit' }, mark);
    el('circle', { cx, cy: top + rowHeight / 2, r: 5 }, mark);
    const label = tests.length === 1 ? tests[0] : `${tests.length} tests`;
    const labelWidth = label.length * (narrow ? 6 : 6.5) + 4;
    if (cx + 8 > labelEnd && cx + 8 + labelWidth <= nextX) { // words only where no marker follows them
      text(mark, cx + 8, top + rowHeight / 2 + 4, label, { class: 'lab-mark-text' });
      labelEnd = cx + 8 + labelWidth;
    }
  });
}

// A lab result in words, with the catalogue's name, precision and unit.
export function describeLab(lab) {
  const sign = signOf(lab.test);
  return `${sign.label} ${lab.value.toFixed(sign.digits)} ${sign.unit}`;
}

const AROUSAL = { alert: 'alert', spontaneous: 'drowsy, wakes spontaneously', voice: 'wakes to voice',
  touch: 'wakes to touch', vigorous: 'wakes only to vigorous touch', unarousable: 'unarousable' };

// A bedside neurological assessment in words: the ICE score and what else was charted.
export function describeNeuro(assessment) {
  const parts = [assessment.ice === undefined ? 'ICE not assessable' : `ICE ${assessment.ice}/10`];
  if (assessment.arousal) parts.push(AROUSAL[assessment.arousal] || assessment.arousal);
  if (assessment.seizure && assessment.seizure !== 'none') parts.push(`seizure ${assessment.seizure}`);
  if (assessment.motor && assessment.motor !== 'none') parts.push('deep focal motor weakness');
  if (assessment.cerebral_edema && assessment.cerebral_edema !== 'none') parts.push(`cerebral oedema ${assessment.cerebral_edema}`);
  if (assessment.by) parts.push(`by ${assessment.by}`);
  return parts.join(' · ');
}

// A band as rectangles with their own tooltips; past MAX_TITLED_RUNS (a score that changes
// every few minutes for days) as one path per colour, which the browser paints many times
// faster than thousands of rectangles.
const MAX_TITLED_RUNS = 240;

function drawBand(group, found, top, minutes, xMinute, describe) {
  if (found.length > MAX_TITLED_RUNS) {
    const paths = new Map();
    for (const run of found) {
      const { cls, data } = describe(run);
      const x1 = xMinute(minutes[run.start]);
      const width = Math.max(1, xMinute(minutes[run.end] + 1) - x1);
      const entry = paths.get(cls) || { d: '', data };
      entry.d += `M${x1.toFixed(1)} ${top}h${width.toFixed(1)}v16h${(-width).toFixed(1)}Z`;
      paths.set(cls, entry);
    }
    for (const [cls, { d, data }] of paths) el('path', { d, class: cls, ...data }, group);
    return;
  }
  for (const run of found) {
    const { cls, data, label, title } = describe(run);
    const x1 = xMinute(minutes[run.start]);
    const x2 = xMinute(minutes[run.end] + 1);
    const rect = el('rect', { x: x1, y: top, width: Math.max(1, x2 - x1), height: 16, class: cls, ...data }, group);
    titled(rect, `${title}, ${formatStamp(minutes[run.start] * MINUTE_MS)} – ${formatStamp((minutes[run.end] + 1) * MINUTE_MS)}`);
    if (label && x2 - x1 > 22) text(group, (x1 + x2) / 2, top + 12, label, { class: 'band-text', 'text-anchor': 'middle' });
  }
}

// Runs of equal values over consecutive minutes (a gap longer than MAX_JOIN_MINUTES ends a run),
// at most one per pixel column: a column shows the worst value of its minutes, so 14 days fit
// in a few hundred rectangles and a short spell of "high" is never averaged away.
function bandRuns(minutes, column, xMinute) {
  const found = [];
  let current = null;
  let columnPx = null;
  let columnValue = null;
  let columnStart = 0;
  let columnEnd = 0;
  const close = () => {
    if (columnPx === null) return;
    if (current && current.value === columnValue
        && minutes[columnStart] - minutes[current.end] <= MAX_JOIN_MINUTES) {
      current.end = columnEnd;
    } else {
      if (current) found.push(current);
      current = { value: columnValue, start: columnStart, end: columnEnd };
    }
  };
  for (let index = 0; index < minutes.length; index += 1) {
    const value = column[index];
    if (value === null) continue;
    const px = Math.floor(xMinute(minutes[index]));
    if (px !== columnPx || minutes[index] - minutes[columnEnd] > MAX_JOIN_MINUTES) {
      close();
      columnPx = px;
      columnValue = value;
      columnStart = index;
    } else if (value > columnValue) {
      columnValue = value;
    }
    columnEnd = index;
  }
  close();
  if (current) found.push(current);
  return found;
}

function linePath(minutes, column, xMinute, yOf, pixels) {
  let d = '';
  let previous = null;
  if (minutes.length <= pixels * 2) {
    for (let index = 0; index < minutes.length; index += 1) {
      const value = column[index];
      if (value === null) { previous = null; continue; }
      const join = previous !== null && minutes[index] - previous <= MAX_JOIN_MINUTES;
      d += `${join ? 'L' : 'M'}${xMinute(minutes[index]).toFixed(1)} ${yOf(value).toFixed(1)}`;
      if (!join) d += 'h0.5';
      previous = minutes[index];
    }
    return d;
  }
  // Denser than the screen: each pixel column's lowest and highest value, drawn as the filled
  // band between them (at least 1.6 px tall). Stroking a zigzag through every column costs
  // Chromium's software renderer over 150 ms for 14 days of seven signs; filling costs little.
  const segments = [];
  let current = null;
  for (let index = 0; index < minutes.length; index += 1) {
    const value = column[index];
    if (value === null) continue;
    const px = Math.round(xMinute(minutes[index]));
    if (current === null || minutes[index] - previous > MAX_JOIN_MINUTES) {
      current = [];
      segments.push(current);
    }
    const last = current[current.length - 1];
    if (last && last[0] === px) {
      if (value < last[1]) last[1] = value;
      if (value > last[2]) last[2] = value;
    } else {
      current.push([px, value, value]);
    }
    previous = minutes[index];
  }
  for (const segment of segments) {
    const first = segment[0];
    const lastColumn = segment[segment.length - 1];
    d += `M${first[0] - 0.5} ${(yOf(first[2]) - 0.8).toFixed(1)}`;
    for (const [px, , high] of segment) d += `L${px + 0.5} ${(yOf(high) - 0.8).toFixed(1)}`;
    d += `L${lastColumn[0] + 0.5} ${(yOf(lastColumn[1]) + 0.8).toFixed(1)}`;
    for (let index = segment.length - 1; index >= 0; index -= 1) {
      const [px, low] = segment[index];
      d += `L${px - 0.5} ${(yOf(low) + 0.8).toFixed(1)}`;
    }
    d += 'Z';
  }
  return d;
}
