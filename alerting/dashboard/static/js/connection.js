// The live event stream from the dashboard server, kept alive for as long as the page is open.
//
// EventSource reconnects by itself after a network error or a server restart, and every
// (re)connection starts with a snapshot, so the page simply rebuilds from each snapshot. Two
// cases EventSource gives up on or cannot see are handled here: a refused response (401 after
// the token changed, 502 from a proxy) closes it for good, and a stream that goes silent without
// closing (a frozen server, a dead proxy) looks open forever. The server sends a heartbeat
// every 5 s; after three missed beats the page reconnects itself.

const SILENCE_LIMIT_MS = 15000;
const REOPEN_DELAY_MS = 2000;

export function followEvents(url, handlers) {
  let source = null;
  let lastMessageAt = Date.now();

  const open = () => {
    source = new EventSource(url);
    lastMessageAt = Date.now();
    handlers.onConnection('connecting');
    for (const type of ['snapshot', 'delta', 'state', 'heartbeat']) {
      source.addEventListener(type, (event) => {
        lastMessageAt = Date.now();
        handlers[type](JSON.parse(event.data));
      });
    }
    source.addEventListener('open', () => handlers.onConnection('open'));
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        checkAccessThenReopen();
      } else {
        handlers.onConnection('reconnecting');
      }
    });
  };

  const reopen = () => {
    source.close();
    handlers.onConnection('reconnecting');
    setTimeout(open, REOPEN_DELAY_MS);
  };

  // A closed stream is either a refusal of access, which retrying cannot cure, or a passing
  // failure, which it can.
  const checkAccessThenReopen = async () => {
    try {
      const response = await fetch('/api/session', { cache: 'no-store' });
      if (response.status === 401) {
        const body = await response.json().catch(() => ({}));
        handlers.onConnection('unauthorized', body.message);
        return;
      }
    } catch (error) {
      // the server is unreachable: keep trying
    }
    reopen();
  };

  setInterval(() => {
    if (source && source.readyState === EventSource.OPEN && Date.now() - lastMessageAt > SILENCE_LIMIT_MS) {
      reopen();
    }
  }, 1000);

  open();
}
