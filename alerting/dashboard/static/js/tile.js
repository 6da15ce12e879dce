// One patient's tile: built once from a template, then updated in place, field by field.
//
// Every write is skipped when the text is unchanged, and sparklines are redrawn only while the
// tile is on screen: with 200 patients updating every second, most of the page is off screen
// and most fields do not change from one second to the next.

import { setAttribute, setHidden, setText } from './dom.js';
import { sparklinePath } from './sparkline.js';
import {
  NEWS2_BAND_LABEL, OTHER_SIGNS, PRIORITY_OF_SEVERITY, TRENDED, formatSign, formatTime, organFindings,
} from './format.js';

const SPARKLINE_REFRESH_MS = 10000;
const tileTemplate = document.getElementById('tile-template');
const vitalTemplate = document.getElementById('vital-template');

export class Tile {
  constructor(patientId) {
    this.patientId = patientId;
    this.element = tileTemplate.content.firstElementChild.cloneNode(true);
    this.element.dataset.patientId = patientId;
    const find = (selector) => this.element.querySelector(selector);
    this.parts = {
      bed: find('.bed'), pid: find('.pid'), alert: find('.tile-alert'),
      news2: find('.news2'), news2Score: find('.news2-score'), news2Band: find('.news2-band'),
      crsGrade: find('.crs-grade'), crsNote: find('.crs-note'), extra: find('.extra'),
      icans: find('.icans'), icansGrade: find('.icans-grade'), organ: find('.organ'),
      updated: find('.updated'), staleNote: find('.stale-note'),
    };
    this.signs = {};
    const vitals = find('.vitals');
    for (const sign of TRENDED) {
      const row = vitalTemplate.content.firstElementChild.cloneNode(true);
      row.dataset.sign = sign.key;
      row.querySelector('.vital-label').textContent = sign.label;
      row.querySelector('.unit').textContent = sign.unit;
      vitals.appendChild(row);
      this.signs[sign.key] = { value: row.querySelector('.value'), path: row.querySelector('.spark-line') };
    }
    this.visible = false;
    this.sparklinesStale = true;
    this.drawnMinute = undefined;
    this.drawnAt = -Infinity;
  }

  // `patient` is {status, points}; `alert` the patient's most severe open alert or null.
  render(patient, alert, windowMinutes, staleSince) {
    const status = patient.status;
    const { parts } = this;
    setText(parts.bed, status.bed ? `Bed ${status.bed}` : 'No bed');
    setText(parts.pid, status.patient_id);
    setText(parts.news2Score, String(status.news2.score));
    setText(parts.news2Band, NEWS2_BAND_LABEL[status.news2.band] + (status.news2.complete ? '' : ' (incomplete)'));
    setAttribute(parts.news2, 'data-band', status.news2.band);
    setAttribute(parts.news2, 'title', status.news2.complete ? null
      : 'Not every NEWS2 parameter has been measured: missing ones score 0');
    setText(parts.crsGrade, String(status.crs.grade));
    setAttribute(this.element, 'data-crs-grade', String(status.crs.grade));
    setText(parts.crsNote, describeCrs(status.crs));
    // ICANS is graded beside CRS, never folded into it (ASTCT 2019): its own badge, once assessed.
    const icans = status.icans;
    setHidden(parts.icans, !icans);
    setText(parts.icansGrade, icans ? String(icans.grade) : '');
    setAttribute(this.element, 'data-icans-grade', icans ? String(icans.grade) : null);
    // The organs beyond the vital signs, only when something is abnormal: a quiet tile stays quiet.
    const organ = organFindings(status);
    setText(parts.organ, organ.join(' · '));
    setHidden(parts.organ, !organ.length);

    const latest = status.latest || {};
    for (const sign of TRENDED) {
      setText(this.signs[sign.key].value, formatSign(latest[sign.key], sign.digits));
    }
    const extra = OTHER_SIGNS.filter((sign) => latest[sign.key] !== undefined)
      .map((sign) => `${sign.label} ${formatSign(latest[sign.key], sign.digits)} ${sign.unit}`);
    if (status.shock_index !== null && status.shock_index !== undefined) {
      extra.push(`Shock index ${status.shock_index.toFixed(2)}`);
    }
    if (status.qsofa !== null && status.qsofa !== undefined) extra.push(`qSOFA ${status.qsofa}`);
    setText(parts.extra, extra.join(' · '));
    setText(parts.updated, `Status at ${formatTime(status.ts)}`);
    setText(parts.staleNote, staleSince ? 'no new status for a while' : '');
    setAttribute(this.element, 'data-stale', staleSince ? 'true' : null);
    // The moment this status reached the DOM is what the load benchmark measures.
    setAttribute(this.element, 'data-ts', status.ts);

    this.renderAlert(alert);
    this.sparklinesStale = true;
    if (this.visible && this.sparklinesDue(patient)) this.renderSparklines(patient, windowMinutes);
  }

  // A sparkline has one point per minute; within a minute only its last point moves, by a
  // pixel or two. Redrawing it at every status (once a second, for every tile on a wall
  // display) costs more than the rest of the page; so a new minute redraws at once, a moving
  // last point at most every SPARKLINE_REFRESH_MS. The numbers beside it are always live.
  sparklinesDue(patient) {
    const points = patient.points;
    const newestMinute = points.length ? points[points.length - 1][0] : null;
    return newestMinute !== this.drawnMinute || performance.now() - this.drawnAt >= SPARKLINE_REFRESH_MS;
  }

  renderAlert(alert) {
    const { parts } = this;
    if (alert) {
      const acknowledged = alert.acknowledged ? ' · acknowledged' : '';
      setText(parts.alert, `${alert.severity.toUpperCase()} · ${alert.rule}${acknowledged}`);
    }
    setHidden(parts.alert, !alert);
    setAttribute(this.element, 'data-priority', alert ? PRIORITY_OF_SEVERITY[alert.severity] : null);
    setAttribute(this.element, 'data-severity', alert ? alert.severity : null);
    setAttribute(this.element, 'data-acknowledged', alert && alert.acknowledged ? 'true' : null);
  }

  renderSparklines(patient, windowMinutes) {
    const points = patient.points;
    const lastMinute = points.length ? points[points.length - 1][0] : 0;
    TRENDED.forEach((sign, index) => {
      const d = sparklinePath(points, index + 1, lastMinute, windowMinutes, sign.minSpan);
      setAttribute(this.signs[sign.key].path, 'd', d || null);
    });
    this.sparklinesStale = false;
    this.drawnMinute = points.length ? lastMinute : null;
    this.drawnAt = performance.now();
  }
}

function describeCrs(crs) {
  const signs = [];
  if (crs.fever) signs.push('fever');
  if (crs.hypotension) signs.push('hypotension');
  if (crs.hypoxia) signs.push('hypoxia');
  const parts = ['provisional'];
  if (signs.length) parts.push(signs.join(', '));
  parts.push(crs.risk_period ? 'in risk period' : 'outside risk period');
  return parts.join(' · ');
}
