// The bedside ICE form on the patient view: a nurse scores the five ICE tasks, the level of
// consciousness and the yes/no findings on a phone, and charts them as the contract's `neuro`
// ClinicalEvent (POST /api/assessments; the server checks them with the wire model and
// publishes them to `clinical-events`).
//
// Every choice is a radio button drawn as a large target (≥ 44 px, dashboard.css), so a gloved
// finger cannot land between two scores. Nothing is preselected: a finding left untouched was
// not assessed, as the contract says of an absent field. The form does not judge the input
// itself: the server's answer, in words, is what the nurse reads when something is wrong.

import { setText } from './dom.js';

// The ICE score (ASTCT 2019, Lee et al.): task, points, what is asked.
export const ICE_TASKS = [
  ['orientation', 4, 'Orientation', 'year, month, city, hospital: a point each'],
  ['naming', 3, 'Naming', 'three objects: a point each'],
  ['commands', 1, 'Commands', 'follows simple commands'],
  ['writing', 1, 'Writing', 'writes a standard sentence'],
  ['attention', 1, 'Attention', 'counts back from 100 by 10'],
];

// The findings beside the ICE score, in the contract's words and the ward's.
const FINDINGS = [
  ['arousal', 'Level of consciousness', [
    ['alert', 'Awake'], ['spontaneous', 'Drowsy, awakens by itself'], ['voice', 'Awakens to voice'],
    ['touch', 'Awakens to touch'], ['vigorous', 'Only vigorous or repeated touch'], ['unarousable', 'Unarousable'],
  ]],
  ['seizure', 'Seizure', [
    ['none', 'None'], ['resolved', 'Resolved rapidly'], ['prolonged', 'Over 5 min or repeated'],
  ]],
  ['motor', 'Motor', [['none', 'No weakness'], ['deep_focal_weakness', 'Deep focal weakness']]],
  ['cerebral_edema', 'Cerebral oedema', [['none', 'None'], ['focal', 'Focal'], ['diffuse', 'Diffuse']]],
];

export const ICE_NEEDS = 'Type your name or initials in "Acknowledging as" at the top first: it is charted with the assessment.';

function choice(name, value, label) {
  const wrapper = document.createElement('label');
  wrapper.className = 'choice';
  const input = document.createElement('input');
  input.type = 'radio';
  input.name = name;
  input.value = value;
  const face = document.createElement('span');
  face.textContent = label;
  wrapper.append(input, face);
  return wrapper;
}

function group(name, title, hint, choices) {
  const fieldset = document.createElement('fieldset');
  fieldset.className = 'ice-group';
  fieldset.dataset.field = name;
  const legend = document.createElement('legend');
  legend.textContent = title;
  if (hint) {
    const small = document.createElement('span');
    small.className = 'quiet';
    small.textContent = ` · ${hint}`;
    legend.append(small);
  }
  const row = document.createElement('div');
  row.className = 'choices';
  for (const [value, label] of choices) row.append(choice(name, value, label));
  fieldset.append(legend, row);
  return fieldset;
}

export class IceForm {
  // `patientId()` names the patient on the view; `whoIsAcknowledging()` the person (identity.js).
  constructor(form, { patientId, whoIsAcknowledging, whoInput }) {
    this.form = form;
    this.patientId = patientId;
    this.whoIsAcknowledging = whoIsAcknowledging;
    this.whoInput = whoInput;
    this.total = form.querySelector('.ice-total');
    this.error = form.querySelector('.ice-error');
    this.sent = form.querySelector('.ice-sent');
    this.button = form.querySelector('.ice-submit');
    const groups = form.querySelector('.ice-groups');
    for (const [name, points, title, hint] of ICE_TASKS) {
      const scores = Array.from({ length: points + 1 }, (_, score) => [String(score), String(score)]);
      groups.append(group(name, `${title} (0–${points})`, hint, scores));
    }
    for (const [name, title, choices] of FINDINGS) groups.append(group(name, title, null, choices));
    form.addEventListener('change', () => {
      setText(this.error, ''); // what it said was about the form before this change
      this.showTotal();
    });
    whoInput.addEventListener('input', () => setText(this.error, ''));
    form.addEventListener('reset', () => requestAnimationFrame(() => this.showTotal()));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.showTotal();
  }

  chosen(name) {
    const input = this.form.querySelector(`input[name="${name}"]:checked`);
    return input ? input.value : null;
  }

  // The items scored so far, and their sum: shown as the nurse taps, before anything is sent.
  items() {
    const items = {};
    for (const [name] of ICE_TASKS) {
      const value = this.chosen(name);
      if (value !== null) items[name] = Number(value);
    }
    return items;
  }

  showTotal() {
    const items = this.items();
    const scored = Object.keys(items).length;
    const sum = Object.values(items).reduce((a, b) => a + b, 0);
    this.form.dataset.ice = scored === ICE_TASKS.length ? String(sum) : '';
    let words;
    if (scored === ICE_TASKS.length) words = `ICE ${sum}/10`;
    else if (scored === 0) words = 'ICE –/10';
    else words = `ICE ${sum}/10 so far · ${ICE_TASKS.length - scored} task${ICE_TASKS.length - scored > 1 ? 's' : ''} to score`;
    setText(this.total, words);
  }

  clear() {
    this.form.reset();
    setText(this.error, '');
    setText(this.sent, '');
    this.showTotal();
  }

  async submit() {
    const by = this.whoIsAcknowledging();
    setText(this.sent, '');
    if (!by) {
      setText(this.error, ICE_NEEDS);
      this.whoInput.focus();
      return;
    }
    setText(this.error, '');
    const body = { patient_id: this.patientId(), by };
    const items = this.items();
    if (Object.keys(items).length) body.ice_items = items;
    for (const [name] of FINDINGS) {
      const value = this.chosen(name);
      if (value !== null) body[name] = value;
    }
    this.button.disabled = true;
    setText(this.button, 'Charting…');
    try {
      const response = await fetch('/api/assessments', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.message || `the server answered ${response.status}`);
      // What Kafka has taken; the course shows it when the dashboard reads it back.
      this.form.dataset.submittedTs = answer.ts;
      this.form.reset();
      this.showTotal();
      const ice = answer.ice === undefined ? 'no ICE score' : `ICE ${answer.ice}/10`;
      setText(this.sent, `Charted: ${ice} by ${answer.by}. It appears on the course in a moment.`);
    } catch (failure) {
      const why = failure instanceof TypeError ? 'the dashboard server cannot be reached' : failure.message;
      setText(this.error, `Not charted: ${why}`);
    } finally {
      this.button.disabled = false;
      setText(this.button, 'Chart assessment');
    }
  }
}
