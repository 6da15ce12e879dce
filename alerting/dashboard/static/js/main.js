// Wires the page together: the event stream feeds the alert list and the ward grid.

import { followEvents } from './connection.js';
import { rememberIdentity } from './identity.js';
import { AlertList } from './alerts.js';
import { WardBoard, mostSevereByPatient } from './ward.js';
import { formatTime } from './format.js';
import { setHidden, setText } from './dom.js';

const byId = (id) => document.getElementById(id);
const whoInput = byId('who');
const alertList = new AlertList(byId('alert-list'), byId('no-alerts'), byId('alert-count'),
  rememberIdentity(whoInput), whoInput);
const ward = new WardBoard(byId('wards'), byId('no-patients'));
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
    showCounts();
    showStatus();
  },
  delta(delta) {
    if (alertList.apply(delta)) ward.setAlerts(mostSevereByPatient(alertList.alerts.values()));
    ward.apply(delta);
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
