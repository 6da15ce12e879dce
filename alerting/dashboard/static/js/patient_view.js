// The patient view: one patient's course, opened from a tile or an alert, kept live.
//
// The course comes once from /api/patients/{id}/course; after that the vital signs follow the
// event stream the ward already receives (each status of this patient becomes a row of its
// minute, as on the server), so a live update costs no request. When the patient's episodes or
// clinical events change, the delta names the patient and the course is fetched again.

import { AlertList } from './alerts.js';
import {
  drawCourse, describeEvent, describeLab, describeNeuro, formatStamp,
} from './course_chart.js';
import { setHidden, setText } from './dom.js';
import { IceForm } from './ice_form.js';
import {
  LAB_TESTS, NEWS2_BAND_LABEL, VITAL_SIGNS, formatSign, formatTime, signOf,
} from './format.js';

const SIGNS = VITAL_SIGNS; // the catalogue's, in display order (format.js)
const NEWS2_BANDS = ['low', 'low_medium', 'medium', 'high'];
const NEAR_PX = 22; // half a mark's touch target

export class PatientView {
  constructor(root, { whoIsAcknowledging, whoInput, onClose }) {
    this.root = root;
    const find = (selector) => root.querySelector(selector);
    this.parts = {
      bed: find('.pv-bed'), pid: find('.pv-pid'), ward: find('.pv-ward'), latest: find('.pv-latest'),
      note: find('.pv-note'), chart: find('.pv-chart'), details: find('.pv-details'),
      labs: find('.pv-labs'), labRows: find('.pv-labs tbody'), risk: find('.pv-risk'),
    };
    this.alertList = new AlertList(find('.pv-alerts'), document.createElement('p'), document.createElement('span'),
      whoIsAcknowledging, whoInput);
    this.iceForm = new IceForm(find('.ice-form'), { patientId: () => this.patientId, whoIsAcknowledging, whoInput });
    this.patientId = null;
    this.span = '24';
    this.course = null;
    this.request = 0;
    this.frameRequested = false;
    this.selected = null;
    find('#pv-close').addEventListener('click', onClose);
    for (const button of root.querySelectorAll('[data-span]')) {
      button.addEventListener('click', () => this.onSpan(button.dataset.span));
    }
    const chart = this.parts.chart;
    chart.addEventListener('click', (event) => this.select(event.target));
    chart.addEventListener('mouseover', (event) => this.select(event.target));
    chart.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') this.select(event.target);
    });
    window.addEventListener('resize', () => this.scheduleDraw());
  }

  get isOpen() { return this.patientId !== null; }

  show(patientId, span, allAlerts) {
    if (patientId !== this.patientId) this.iceForm.clear(); // one patient's scores never go to another
    const changed = patientId !== this.patientId || span !== this.span;
    this.patientId = patientId;
    this.span = span;
    setHidden(this.root, false);
    for (const button of this.root.querySelectorAll('[data-span]')) {
      button.setAttribute('aria-pressed', String(button.dataset.span === span));
    }
    if (changed) {
      this.course = null;
      this.selected = null;
      this.parts.chart.replaceChildren();
      this.parts.details.replaceChildren(quiet('Tap or point at an alert span or a clinical event on the chart to see its details here.'));
      setText(this.parts.note, 'Loading the course…');
    }
    this.setAlerts(allAlerts);
    return this.fetch();
  }

  hide() {
    this.patientId = null;
    this.course = null;
    setHidden(this.root, true);
  }

  onSpan(span) {
    if (this.onSpanChange) this.onSpanChange(this.patientId, span);
  }

  async fetch() {
    const patientId = this.patientId;
    const request = ++this.request;
    const hours = this.span === 'all' ? 'all' : this.span;
    let body;
    const began = performance.now();
    try {
      const response = await fetch(`/api/patients/${encodeURIComponent(patientId)}/course?hours=${hours}`,
        { cache: 'no-store' });
      body = await response.json();
      if (!response.ok) throw new Error(body.message || `the server answered ${response.status}`);
    } catch (failure) {
      if (request === this.request) setText(this.parts.note, `The course cannot be shown: ${failure.message}`);
      return;
    }
    if (request !== this.request || patientId !== this.patientId) return; // a newer request won
    this.root.dataset.fetchMs = (performance.now() - began).toFixed(1);
    this.course = decodeCourse(body);
    this.scheduleDraw();
  }

  setAlerts(allAlerts) {
    if (!this.isOpen) return;
    this.alertList.replace([...allAlerts].filter((alert) => alert.patient_id === this.patientId));
  }

  // A delta of the event stream: follow this patient's statuses; refetch when the server says
  // the episodes or clinical events changed.
  applyDelta(delta, allAlerts) {
    if (!this.isOpen) return;
    if (delta.alerts.length || delta.resolved.length) this.setAlerts(allAlerts);
    if ((delta.courses || []).includes(this.patientId)) {
      this.fetch();
      return;
    }
    const mine = delta.patients.find((tile) => tile.patient_id === this.patientId);
    if (mine && this.course) {
      mergeStatus(this.course, mine, this.span);
      this.scheduleDraw();
    }
  }

  scheduleDraw() {
    if (this.frameRequested || !this.course) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      if (this.course) this.draw();
    });
  }

  draw() {
    const course = this.course;
    const status = course.status;
    setText(this.parts.bed, status && status.bed ? `Bed ${status.bed}` : '');
    setText(this.parts.pid, course.patient_id);
    setText(this.parts.ward, status && status.ward ? `· ${status.ward}` : '');
    this.drawLatest(status);
    this.drawRisk(status);
    this.drawLabs(course);
    const width = Math.max(280, this.parts.chart.clientWidth);
    const began = performance.now();
    const svg = drawCourse(this.parts.chart, course, width);
    // What was drawn and when, for the tests and the benchmark (bench/patient_view.py).
    this.root.dataset.drawMs = (performance.now() - began).toFixed(1);
    this.root.dataset.drawnAt = String(performance.now());
    this.root.dataset.rows = svg.dataset.rows;
    this.root.dataset.statusTs = status ? status.ts : '';
    const shown = this.span === 'all' ? 'the risk period (from day 0, as far as the dashboard keeps it)'
      : `the last ${this.span} h`;
    let note = `Showing ${shown}: ${formatStamp(Date.parse(course.from))} – ${formatStamp(Date.parse(course.to))}.`;
    if (course.therapy) {
      const day = Math.floor((Date.parse(course.to) - Date.parse(course.therapy.ts)) / 86400000);
      note += ` Day ${day} after ${describeEvent(course.therapy).replace(' (day 0)', '')}.`;
    } else {
      note += ' No therapy known to this dashboard: no risk period.';
    }
    if (course.minutes.length && course.minutes[0] * 60000 > Date.parse(course.from) + 3600000) {
      note += ` Readings from ${formatStamp(course.minutes[0] * 60000)} on: the dashboard has nothing older.`;
    }
    setText(this.parts.note, note);
    if (this.selected) this.showDetails(this.selected);
  }

  drawLatest(status) {
    const latest = (status && status.latest) || {};
    // Words, units and precision: the catalogue's (format.js); blood pressure is one reading of three.
    const one = (key) => {
      const sign = signOf(key);
      return [key, sign.label, formatSign(latest[key], sign.digits), sign.unit];
    };
    const [systolic, diastolic, mean] = ['systolic_bp', 'diastolic_bp', 'mean_arterial_pressure'].map((key) => signOf(key));
    const parts = [
      one('temperature'),
      one('heart_rate'),
      ['blood_pressure', 'BP', `${formatSign(latest.systolic_bp, systolic.digits)}/`
        + `${formatSign(latest.diastolic_bp, diastolic.digits)}`
        + ` (${mean.label} ${formatSign(latest.mean_arterial_pressure, mean.digits)})`, systolic.unit],
      one('spo2'),
      one('respiratory_rate'),
    ];
    const spans = parts.map(([key, label, value, unit]) => {
      const span = document.createElement('span');
      span.dataset.sign = key;
      const bold = document.createElement('b');
      bold.textContent = value;
      span.append(`${label} `, bold, ` ${unit}`);
      return span;
    });
    if (status) {
      const scores = document.createElement('span');
      scores.className = 'pv-scores';
      const icans = status.icans ? ` · ICANS grade ${status.icans.grade} (provisional)` : '';
      scores.textContent = `NEWS2 ${status.news2.score} ${NEWS2_BAND_LABEL[status.news2.band]} · CRS grade `
        + `${status.crs.grade} (provisional)${icans} · at ${formatTime(status.ts)}`;
      spans.push(scores);
    }
    this.parts.latest.replaceChildren(...spans);
  }

  // m-EASIX at therapy start, as the worker computed it (the status's `risk`): a number and what
  // it is, never a band, since the clinical reference gives no cut-off (docs/clinical-reference.md,
  // "m-EASIX"). `at` is the newest of the LDH, CRP and platelets it was computed from.
  drawRisk(status) {
    const risk = status && status.risk;
    setHidden(this.parts.risk, !risk);
    if (!risk) {
      this.parts.risk.replaceChildren();
      delete this.parts.risk.dataset.at;
      return;
    }
    const score = document.createElement('b');
    score.textContent = `m-EASIX ${risk.m_easix.toFixed(risk.m_easix < 1 ? 2 : 1)}`;
    const what = document.createElement('span');
    what.className = 'quiet';
    what.textContent = ' · a risk context for severe CRS, not an alarm';
    this.parts.risk.title = 'm-EASIX = LDH (U/L) × CRP (mg/dL) ÷ platelets (10⁹/L), from the results nearest before '
      + 'therapy (Pennisi, Blood Adv 2021). crsmon sets no cut-off; no rule reads it.';
    this.parts.risk.dataset.at = risk.at;
    this.parts.risk.replaceChildren(score,
      ` before therapy (LDH, CRP, platelets, latest ${formatStamp(Date.parse(risk.at))})`, what);
  }

  // The latest result of each test the status carries, in the catalogue's order, words, unit and
  // precision; the CTCAE grade, fold change and note when the worker sends them; and a trend mark
  // against the result before it (as shown: 1.601 after 1.6 mg/dL is no rise at two decimals).
  drawLabs(course) {
    const labs = (course.status && course.status.labs) || {};
    const previous = course.lab_previous || {};
    const rows = [];
    for (const test of LAB_TESTS) {
      const lab = labs[test];
      if (!lab) continue;
      const sign = signOf(test);
      const row = document.createElement('tr');
      row.dataset.test = test;
      const name = document.createElement('td');
      name.className = 'lab-name';
      name.textContent = sign.label;
      const value = document.createElement('td');
      value.className = 'lab-value';
      const bold = document.createElement('b');
      bold.textContent = lab.value.toFixed(sign.digits);
      const unit = document.createElement('span');
      unit.className = 'lab-unit';
      unit.textContent = ` ${sign.unit}`;
      value.append(bold, unit);
      const trend = document.createElement('td');
      trend.className = 'lab-trend';
      const before = previous[test];
      if (before) {
        const now = Number(lab.value.toFixed(sign.digits));
        const then = Number(before.value.toFixed(sign.digits));
        const direction = now > then ? 'up' : now < then ? 'down' : 'same';
        trend.dataset.trend = direction;
        trend.textContent = { up: '↑', down: '↓', same: '→' }[direction];
        trend.title = `${{ up: 'up', down: 'down', same: 'unchanged' }[direction]} from `
          + `${before.value.toFixed(sign.digits)} ${sign.unit} at ${formatStamp(Date.parse(before.at))}`;
      }
      const grade = document.createElement('td');
      grade.className = 'lab-grade';
      const graded = [];
      if (typeof lab.grade === 'number') {
        graded.push(`G${lab.grade}`);
        row.dataset.grade = String(lab.grade);
        grade.title = `CTCAE grade ${lab.grade}`;
      }
      if (typeof lab.fold_change === 'number') graded.push(`×${lab.fold_change.toFixed(1)}`);
      grade.textContent = graded.join(' ');
      if (lab.note) {
        const note = document.createElement('span');
        note.className = 'lab-note';
        note.textContent = `${graded.length ? ' · ' : ''}${lab.note}`;
        grade.append(note);
      }
      const at = document.createElement('td');
      at.className = 'lab-at';
      at.textContent = formatTime(lab.at);
      row.append(name, value, trend, grade, at);
      rows.push(row);
    }
    this.parts.labRows.replaceChildren(...rows);
    setHidden(this.parts.labs, !rows.length);
  }

  select(target) {
    const found = target.closest && target.closest('.span, .mark, .lab-mark, .ice-point');
    if (!found) return;
    if (found.classList.contains('lab-mark')) {
      const x = Number(found.dataset.x);
      const near = [...this.parts.chart.querySelectorAll('.lab-mark')]
        .filter((mark) => Math.abs(Number(mark.dataset.x) - x) <= NEAR_PX)
        .flatMap((mark) => mark.dataset.labIndexes.split(',').map(Number));
      this.selected = { labIndexes: near };
    } else if (found.classList.contains('ice-point')) {
      this.selected = { neuroIndex: Number(found.dataset.neuroIndex) };
    } else if (found.classList.contains('span')) {
      this.selected = { episodeId: found.dataset.episodeId };
    } else {
      // Events minutes apart share a finger's width on a day's axis: a tap lists all of them.
      const x = Number(found.dataset.x);
      const near = [...this.parts.chart.querySelectorAll('.mark')]
        .filter((mark) => Math.abs(Number(mark.dataset.x) - x) <= NEAR_PX)
        .map((mark) => Number(mark.dataset.eventIndex));
      this.selected = { eventIndexes: near.length ? near : [Number(found.dataset.eventIndex)] };
    }
    this.showDetails(this.selected);
  }

  showDetails(selected) {
    const details = this.parts.details;
    if (selected.labIndexes !== undefined || selected.neuroIndex !== undefined) {
      const lines = selected.labIndexes !== undefined
        ? selected.labIndexes.map((index) => this.course.labs[index]).filter(Boolean)
          .map((lab) => [lab.ts, describeLab(lab)])
        : [this.course.neuro[selected.neuroIndex]].filter(Boolean)
          .map((assessment) => [assessment.ts, describeNeuro(assessment)]);
      if (!lines.length) return;
      const heading = document.createElement('h3');
      heading.textContent = selected.labIndexes !== undefined
        ? (lines.length === 1 ? 'Lab result' : `${lines.length} lab results`) : 'Neurological assessment';
      const list = document.createElement('ul');
      for (const [ts, words] of lines) {
        list.appendChild(Object.assign(document.createElement('li'), {
          textContent: `${formatStamp(Date.parse(ts))} · ${words}` }));
      }
      details.replaceChildren(heading, list);
      details.dataset.showing = selected.labIndexes !== undefined ? 'labs' : 'neuro';
      return;
    }
    if (selected.episodeId !== undefined) {
      const episode = this.course.episodes.find((item) => item.episode_id === selected.episodeId);
      if (!episode) return;
      const heading = document.createElement('h3');
      heading.textContent = `${episode.rule} alert episode`;
      const list = document.createElement('ul');
      for (const change of episode.changes) {
        const item = document.createElement('li');
        const verb = { firing: 'Fired', updated: 'Updated', resolved: 'Resolved' }[change.status] || change.status;
        item.dataset.status = change.status;
        item.textContent = `${verb} ${formatStamp(Date.parse(change.at))} · ${change.severity.toUpperCase()}`
          + (change.crs_grade !== null && change.crs_grade !== undefined ? ` · CRS grade ${change.crs_grade}` : '')
          + (change.news2_score !== null && change.news2_score !== undefined ? ` · NEWS2 ${change.news2_score}` : '')
          + (change.status !== 'resolved' && change.reasons.length ? `: ${change.reasons.join('; ')}` : '');
        list.appendChild(item);
      }
      for (const ack of episode.acks) {
        const item = document.createElement('li');
        item.dataset.status = 'acknowledged';
        item.textContent = `Acknowledged by ${ack.by} at ${formatStamp(Date.parse(ack.at))}`;
        list.appendChild(item);
      }
      if (!episode.resolved_at) list.appendChild(Object.assign(document.createElement('li'), { textContent: 'Still open' }));
      details.replaceChildren(heading, list);
      details.dataset.showing = episode.episode_id;
    } else {
      const events = selected.eventIndexes.map((index) => this.course.events[index]).filter(Boolean);
      if (!events.length) return;
      const heading = document.createElement('h3');
      heading.textContent = events.length === 1 ? describeEvent(events[0]) : `${events.length} clinical events`;
      const list = document.createElement('ul');
      for (const event of events) {
        const item = document.createElement('li');
        item.dataset.type = event.type;
        item.textContent = `${formatStamp(Date.parse(event.ts))} · ${describeEvent(event)}`
          + (event.by ? ` · charted by ${event.by}` : '');
        list.appendChild(item);
      }
      details.replaceChildren(heading, list);
      details.dataset.showing = 'events';
    }
  }
}

// The server sends each series as integers in tenths, MISSING where a minute has no value:
// the cheapest form to encode and to parse. Here they become numbers and nulls.
function decodeCourse(course) {
  const missing = course.missing;
  for (const name of course.series) {
    course.values[name] = course.values[name].map((raw) => (raw === missing ? null : raw / 10));
  }
  return course;
}

function quiet(content) {
  const paragraph = document.createElement('p');
  paragraph.className = 'quiet';
  paragraph.textContent = content;
  return paragraph;
}

// The server folds statuses into minute rows; this does the same for the rows that arrive live.
export function mergeStatus(course, status, span) {
  const minute = Math.floor(Date.parse(status.ts) / 60000);
  const latest = status.latest || {};
  const row = {};
  for (const sign of SIGNS) {
    const value = latest[sign];
    row[sign] = value === undefined || value === null || value === 0 ? null : value;
  }
  row.news2 = status.news2.score;
  row.news2_band = NEWS2_BANDS.indexOf(status.news2.band);
  row.crs_grade = status.crs.grade;
  const minutes = course.minutes;
  const last = minutes.length ? minutes[minutes.length - 1] : null;
  if (last !== null && minute < last) return; // an older status: the course has its minute already
  if (!course.status || Date.parse(status.ts) >= Date.parse(course.status.ts)) {
    const { points, ...plain } = status;
    course.status = plain;
    // A new ICANS grade (or ICE) extends the band, as the server records it.
    const icans = status.icans;
    const last = course.icans[course.icans.length - 1];
    if (icans && (!last || ((last.grade !== icans.grade || last.ice !== icans.ice)
        && Date.parse(status.ts) >= Date.parse(last.at)))) {
      course.icans.push({ at: status.ts, grade: icans.grade, ice: icans.ice });
    }
  }
  if (minute === last) {
    for (const name of course.series) if (row[name] !== null) course.values[name][minutes.length - 1] = row[name];
  } else {
    minutes.push(minute);
    for (const name of course.series) course.values[name].push(row[name]);
  }
  const toMs = (minute + 1) * 60000;
  if (toMs > Date.parse(course.to)) {
    course.to = new Date(toMs).toISOString();
    if (span !== 'all') {
      const fromMs = toMs - Number(span) * 3600000;
      course.from = new Date(fromMs).toISOString();
      let drop = 0;
      while (drop < minutes.length && minutes[drop] * 60000 < fromMs) drop += 1;
      if (drop) {
        minutes.splice(0, drop);
        for (const name of course.series) course.values[name].splice(0, drop);
      }
    }
  }
}
