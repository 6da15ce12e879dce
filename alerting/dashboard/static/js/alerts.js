// The active alerts at the top of the page, most urgent first, each with its Acknowledge button.
//
// Colours follow the alarm priorities of IEC 60601-1-8 (high red, medium yellow, low cyan), and
// every alert also says its severity in words, so nothing depends on telling colours apart.

import { setHidden, setText } from './dom.js';
import { PRIORITY_OF_SEVERITY, SEVERITY_RANK, formatTime } from './format.js';

const template = document.getElementById('alert-template');

export class AlertList {
  // `onOpen(patientId)` opens a patient's course (the card's body and its Course button).
  constructor(list, emptyNote, count, whoIsAcknowledging, whoInput, onOpen = null) {
    this.list = list;
    this.onOpen = onOpen;
    this.emptyNote = emptyNote;
    this.count = count;
    this.whoIsAcknowledging = whoIsAcknowledging;
    this.whoInput = whoInput;
    this.alerts = new Map(); // episode_id -> alert
    this.items = new Map(); // episode_id -> <li>
  }

  replace(alerts) {
    this.alerts.clear();
    for (const alert of alerts) this.alerts.set(alert.episode_id, alert);
    this.render();
  }

  apply(delta) {
    if (!delta.alerts.length && !delta.resolved.length) return false;
    for (const alert of delta.alerts) this.alerts.set(alert.episode_id, alert);
    for (const episodeId of delta.resolved) this.alerts.delete(episodeId);
    this.render();
    return true;
  }

  render() {
    for (const [episodeId, item] of this.items) {
      if (!this.alerts.has(episodeId)) {
        item.remove();
        this.items.delete(episodeId);
      }
    }
    const ordered = [...this.alerts.values()].sort(mostUrgentFirst);
    ordered.forEach((alert, index) => {
      let item = this.items.get(alert.episode_id);
      if (!item) {
        item = this.create(alert.episode_id);
        this.items.set(alert.episode_id, item);
      }
      this.fill(item, alert);
      if (this.list.children[index] !== item) this.list.insertBefore(item, this.list.children[index] || null);
    });
    setHidden(this.emptyNote, ordered.length > 0);
    const waiting = ordered.filter((alert) => !alert.acknowledged).length;
    setText(this.count, ordered.length ? `(${ordered.length}, ${waiting} not acknowledged)` : '');
  }

  create(episodeId) {
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.episodeId = episodeId;
    item.querySelector('.ack').addEventListener('click', () => this.acknowledge(item, episodeId));
    const open = () => {
      const alert = this.alerts.get(episodeId);
      if (alert && this.onOpen) this.onOpen(alert.patient_id);
    };
    item.querySelector('.open-course').addEventListener('click', open);
    item.querySelector('.alert-body').addEventListener('click', open);
    setHidden(item.querySelector('.open-course'), !this.onOpen);
    return item;
  }

  fill(item, alert) {
    item.dataset.severity = alert.severity;
    item.dataset.priority = PRIORITY_OF_SEVERITY[alert.severity];
    item.dataset.patientId = alert.patient_id;
    if (alert.acknowledged) item.dataset.acknowledged = 'true'; else delete item.dataset.acknowledged;
    setText(item.querySelector('.alert-priority'), alert.severity.toUpperCase());
    item.querySelector('.alert-priority').title =
      `${PRIORITY_OF_SEVERITY[alert.severity]} priority alarm (IEC 60601-1-8)`;
    const where = [alert.ward, alert.bed ? `bed ${alert.bed}` : null].filter(Boolean).join(' · ');
    const scores = [
      // Grade 0 on a CRS alert: raised by NEWS2 or an early warning in the risk period, not by ASTCT.
      alert.crs_grade === 0 ? 'no CRS grade' : null,
      alert.crs_grade ? `CRS grade ${alert.crs_grade}` : null,
      alert.news2_score !== null && alert.news2_score !== undefined ? `NEWS2 ${alert.news2_score}` : null,
    ].filter(Boolean).join(', ');
    setText(item.querySelector('.alert-title'),
      `${where || 'ward not given'} — ${alert.patient_id} — ${alert.rule}${scores ? ` (${scores})` : ''}`);
    setText(item.querySelector('.alert-reasons'), alert.reasons.join('; '));
    setText(item.querySelector('.alert-times'),
      `Open since ${formatTime(alert.opened_at)} · last change ${formatTime(alert.observed_at)} (${alert.status})`);
    const button = item.querySelector('.ack');
    const state = item.querySelector('.ack-state');
    if (alert.acknowledged) {
      setText(state, `Acknowledged by ${alert.acknowledged.by} at ${formatTime(alert.acknowledged.ts)}`);
      setHidden(button, true);
      setText(item.querySelector('.ack-error'), '');
    } else {
      setText(state, 'Not acknowledged');
      setHidden(button, false);
      if (button.dataset.sending !== 'true') {
        button.disabled = false;
        setText(button, 'Acknowledge');
      }
    }
  }

  async acknowledge(item, episodeId) {
    const button = item.querySelector('.ack');
    const error = item.querySelector('.ack-error');
    const by = this.whoIsAcknowledging();
    if (!by) {
      error.textContent = 'Type your name or initials in "Acknowledging as" at the top first.';
      this.whoInput.focus();
      return;
    }
    error.textContent = '';
    button.disabled = true;
    button.dataset.sending = 'true';
    button.textContent = 'Acknowledging…';
    try {
      const response = await fetch('/api/acknowledgements', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ episode_id: episodeId, by }),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.message || `the server answered ${response.status}`);
      }
      // Shown as acknowledged when the acknowledgement comes back from Kafka with the next delta.
      button.textContent = 'Sent…';
    } catch (failure) {
      const why = failure instanceof TypeError ? 'the dashboard server cannot be reached' : failure.message;
      error.textContent = `Not acknowledged: ${why}. Try again.`;
      button.disabled = false;
      button.textContent = 'Acknowledge';
    } finally {
      delete button.dataset.sending;
    }
  }
}

function mostUrgentFirst(a, b) {
  return (SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])
    || (Number(Boolean(a.acknowledged)) - Number(Boolean(b.acknowledged)))
    || (Date.parse(b.opened_at) - Date.parse(a.opened_at));
}
