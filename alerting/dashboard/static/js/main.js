// Wires the page together: the event stream feeds the alert list and the ward grid.

import { followEvents } from './connection.js';
import { rememberIdentity } from './identity.js';
import { AlertList } from './alerts.js';
import { PatientView } from './patient_view.js';
import { WardBoard, mostSevereByPatient } from './ward.js';
import { formatTime } from './format.js';
import { setHidden, setText } from './dom.js';

const byId = (id) => document.getElementById(id);
const whoInput = byId('who');
const whoIsAcknowledging = rememberIdentity(whoInput);

// The patient view is addressed by the page's fragment (#patient=ID&span=24), so the browser's
// Back button returns to the ward and a link can open one patient.
function openPatient(patientId, span = '24') {
  location.hash = `patient=${encodeURIComponent(patientId)}&span=${span}`;
}
function closePatient() {
  history.pushState(null, '', location.pathname + location.search);
  route();
}

const alertList = new AlertList(byId('alert-list'), byId('no-alerts'), byId('alert-count'),
  whoIsAcknowledging, whoInput, openPatient);
const ward = new WardBoard(byId('wards'), byId('no-patients'), openPatient);
const patientView = new PatientView(byId('patient-view'), { whoIsAcknowledging, whoInput, onClose: closePatient });
patientView.onSpanChange = openPatient;

function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const patientId = params.get('patient');
  if (patientId) {
    document.body.dataset.view = 'patient';
    patientView.show(patientId, params.get('span') === 'all' ? 'all' : '24', alertList.alerts.values());
    window.scrollTo(0, 0);
  } else {
    document.body.dataset.view = 'ward';
    patientView.hide();
  }
}
window.addEventListener('hashchange', route);
route();
const connectionText = byId('connection');
const feedWarning = byId('feed-warning');
const counts = byId('counts');

let connection = 'connecting';
let feed = { kafka_reachable: true, caught_up: true, unreachable_since: null };
let serverId = null;

function showStatus(message) {
  if (document.body.dataset.connection !== connection) document.body.dataset.connection = connection;
  const texts = {
    connecting: 'Connecting…',
    open: feed.caught_up ? 'Live' : 'Loading recent history…',
    reconnecting: 'Connection lost — reconnecting…',
    unauthorized: 'Access refused',
  };
  setText(connectionText, texts[connection] || connection);
  let warning = '';
  if (connection === 'unauthorized') {
    warning = message || 'This dashboard needs its access token: open the link it printed when it started.';
  } else if (connection === 'reconnecting' || connection === 'connecting') {
    warning = serverId ? 'The dashboard server cannot be reached. What you see may be out of date.' : '';
  } else if (!feed.kafka_reachable) {
    const since = feed.unreachable_since ? ` since ${formatTime(feed.unreachable_since)}` : '';
    warning = `The dashboard server cannot reach Kafka${since}: what you see may be out of date.`;
  }
  setText(feedWarning, warning);
  setHidden(feedWarning, !warning);
}

function showCounts() {
  setText(counts, `${ward.patients.size} patients`);
}

followEvents('/events', {
  onConnection(state, message) {
    connection = state;
    showStatus(message);
  },
  snapshot(snapshot) {
    serverId = snapshot.server_id;
    connection = 'open';
    alertList.replace(snapshot.alerts);
    ward.replace(snapshot);
    ward.setAlerts(mostSevereByPatient(alertList.alerts.values()));
    if (patientView.isOpen) patientView.show(patientView.patientId, patientView.span, alertList.alerts.values());
    showCounts();
    showStatus();
  },
  delta(delta) {
    if (alertList.apply(delta)) ward.setAlerts(mostSevereByPatient(alertList.alerts.values()));
    ward.apply(delta);
    patientView.applyDelta(delta, alertList.alerts.values());
    if (delta.removed.length || delta.patients.length) showCounts();
  },
  state(state) {
    feed = state;
    showStatus();
  },
  heartbeat(state) {
    feed = state;
    showStatus();
  },
});
