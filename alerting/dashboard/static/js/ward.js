// The ward grid: one section per ward, one tile per patient, ordered by bed.
//
// Changes are applied to the data at once but drawn on the next animation frame, once, however
// many deltas arrived in between; only tiles whose patient changed are touched.

import { setHidden } from './dom.js';
import { Tile } from './tile.js';
import { SEVERITY_RANK, naturalOrder } from './format.js';

// The worker publishes a status at least once a minute while vitals flow (wire contract); a
// tile three minutes behind the newest status in the ward has stopped receiving vitals.
const STALE_AFTER_MS = 3 * 60 * 1000;

export class WardBoard {
  // `onOpen(patientId)`: a tile was clicked (or Enter pressed on it): open the patient's course.
  constructor(container, emptyNote, onOpen = null) {
    this.container = container;
    if (onOpen) {
      const opened = (event) => {
        const tile = event.target.closest('.tile');
        if (tile) onOpen(tile.dataset.patientId);
      };
      container.addEventListener('click', opened);
      container.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          opened(event);
        }
      });
    }
    this.emptyNote = emptyNote;
    this.patients = new Map(); // patient_id -> {status, points}
    this.tiles = new Map(); // patient_id -> Tile
    this.sections = new Map(); // ward name -> {element, grid}
    this.windowMinutes = 360;
    this.newestStatusMs = 0;
    this.alertsByPatient = new Map();
    this.dirty = new Set();
    this.frameRequested = false;
    this.visibility = new IntersectionObserver((entries) => this.onVisibility(entries), { rootMargin: '200px' });
  }

  replace(snapshot) {
    this.windowMinutes = snapshot.history_minutes;
    this.patients.clear();
    for (const tile of this.tiles.values()) this.visibility.unobserve(tile.element);
    this.tiles.clear();
    this.sections.clear();
    this.container.replaceChildren();
    this.newestStatusMs = 0;
    for (const tile of snapshot.patients) this.upsert(tile, true);
    this.scheduleRender();
  }

  apply(delta) {
    for (const tile of delta.patients) this.upsert(tile, false);
    for (const patientId of delta.removed) this.remove(patientId);
    this.scheduleRender();
  }

  setAlerts(alertsByPatient) {
    const before = this.alertsByPatient;
    this.alertsByPatient = alertsByPatient;
    for (const patientId of new Set([...before.keys(), ...alertsByPatient.keys()])) {
      if (before.get(patientId) !== alertsByPatient.get(patientId)) this.dirty.add(patientId);
    }
    this.scheduleRender();
  }

  upsert(tile, whole) {
    const { points, ...status } = tile;
    let patient = this.patients.get(status.patient_id);
    if (!patient) {
      patient = { status, points: [] };
      this.patients.set(status.patient_id, patient);
    }
    const moved = patient.status.ward !== status.ward || patient.status.bed !== status.bed;
    patient.status = status;
    patient.moved = patient.moved || moved;
    mergePoints(patient, points, whole, this.windowMinutes);
    const statusMs = Date.parse(status.ts);
    if (statusMs > this.newestStatusMs) this.newestStatusMs = statusMs;
    this.dirty.add(status.patient_id);
  }

  remove(patientId) {
    this.patients.delete(patientId);
    const tile = this.tiles.get(patientId);
    if (tile) {
      this.visibility.unobserve(tile.element);
      tile.element.remove();
      this.tiles.delete(patientId);
    }
    this.dirty.delete(patientId);
  }

  scheduleRender() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.render();
    });
  }

  render() {
    for (const patientId of this.dirty) {
      const patient = this.patients.get(patientId);
      if (!patient) continue;
      let tile = this.tiles.get(patientId);
      if (!tile) {
        tile = new Tile(patientId);
        this.tiles.set(patientId, tile);
        this.place(tile, patient.status);
        this.visibility.observe(tile.element);
      } else if (patient.moved) {
        this.place(tile, patient.status);
      }
      patient.moved = false;
      const stale = this.newestStatusMs - Date.parse(patient.status.ts) > STALE_AFTER_MS;
      tile.render(patient, this.alertsByPatient.get(patientId) || null, this.windowMinutes, stale);
    }
    this.dirty.clear();
    for (const [ward, section] of this.sections) {
      if (!section.grid.childElementCount) {
        section.element.remove();
        this.sections.delete(ward);
      }
    }
    setHidden(this.emptyNote, this.patients.size > 0);
  }

  // Insert a tile in its ward's section, in bed order; sections in ward-name order.
  place(tile, status) {
    const ward = status.ward || 'No ward given';
    let section = this.sections.get(ward);
    if (!section) {
      const element = document.createElement('section');
      element.className = 'ward';
      element.dataset.ward = ward;
      const heading = document.createElement('h2');
      heading.textContent = ward;
      const grid = document.createElement('div');
      grid.className = 'ward-grid';
      element.append(heading, grid);
      section = { element, grid };
      this.sections.set(ward, section);
      const after = [...this.sections.keys()].sort(naturalOrder).find((name) => naturalOrder(name, ward) > 0);
      this.container.insertBefore(element, after ? this.sections.get(after).element : null);
    }
    tile.element.dataset.bed = status.bed || '';
    const next = [...section.grid.children].find(
      (other) => other !== tile.element && naturalOrder(other.dataset.bed, tile.element.dataset.bed) > 0);
    section.grid.insertBefore(tile.element, next || null);
  }

  onVisibility(entries) {
    for (const entry of entries) {
      const tile = this.tiles.get(entry.target.dataset.patientId);
      if (!tile) continue;
      tile.visible = entry.isIntersecting;
      if (tile.visible && tile.sparklinesStale) {
        tile.renderSparklines(this.patients.get(tile.patientId), this.windowMinutes);
      }
    }
  }
}

// The server sends, per patient, every history point from the oldest minute that changed: drop
// ours from that minute on and append theirs; then drop what fell out of the window.
function mergePoints(patient, points, whole, windowMinutes) {
  if (whole) {
    patient.points = points;
  } else if (points.length) {
    const from = points[0][0];
    let keep = patient.points.length;
    while (keep > 0 && patient.points[keep - 1][0] >= from) keep -= 1;
    patient.points.length = keep;
    for (const point of points) patient.points.push(point);
  }
  if (patient.points.length) {
    const oldest = patient.points[patient.points.length - 1][0] - windowMinutes + 1;
    let drop = 0;
    while (drop < patient.points.length && patient.points[drop][0] < oldest) drop += 1;
    if (drop) patient.points.splice(0, drop);
  }
}

// The most severe open alert of each patient; unacknowledged ones first among equals.
export function mostSevereByPatient(alerts) {
  const byPatient = new Map();
  for (const alert of alerts) {
    const known = byPatient.get(alert.patient_id);
    if (!known || rank(alert) > rank(known)) byPatient.set(alert.patient_id, alert);
  }
  return byPatient;
}

function rank(alert) {
  return SEVERITY_RANK[alert.severity] * 2 + (alert.acknowledged ? 0 : 1);
}
