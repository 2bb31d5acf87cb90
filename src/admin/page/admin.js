// The admin page: event log and detail, failed deliveries with retry, and the rule tester, over the admin API.
// Every value from the API is put on the page with textContent, never parsed as HTML.
'use strict';

const tokenKey = 'hubAdminToken';
const api = '/admin/api';
const pollEveryMs = 1000;
const pollForMs = 60_000;

const state = { token: sessionStorage.getItem(tokenKey), cursor: null, filters: null, currentEventId: null };

const $ = (selector) => document.querySelector(selector);

/** Creates an element; string children become text nodes, so data is never read as markup. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(text, isError = false) {
  const message = $('#message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

function shortId(id) {
  return id.length > 16 ? `${id.slice(0, 12)}…` : id;
}

function time(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

class ApiError extends Error {}

async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${api}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401) {
    signOut('The admin token was refused; sign in again.');
    throw new ApiError('unauthorized');
  }
  if (!response.ok) throw new ApiError(answer && answer.error ? `${answer.error} (${answer.code})` : `HTTP ${response.status}`);
  return answer;
}

/** Runs an action and shows its error instead of throwing. */
async function attempt(action) {
  try {
    await action();
  } catch (error) {
    if (error instanceof ApiError && error.message === 'unauthorized') return;
    say(error.message, true);
  }
}

// --- Sign in and tabs

function showApp(signedIn) {
  $('#sign-in').hidden = signedIn;
  $('#tabs').hidden = !signedIn;
  if (!signedIn) for (const id of ['events', 'failed', 'tester']) $(`#${id}`).hidden = true;
  else showTab('events');
}

function showTab(name) {
  for (const button of document.querySelectorAll('#tabs button[data-tab]')) {
    button.setAttribute('aria-pressed', String(button.dataset.tab === name));
  }
  for (const id of ['events', 'failed', 'tester']) $(`#${id}`).hidden = id !== name;
  if (name === 'failed') void attempt(loadFailed);
}

function signOut(text) {
  sessionStorage.removeItem(tokenKey);
  state.token = null;
  void fetch('/admin/logout', { method: 'POST' });
  showApp(false);
  say(text || 'Signed out.');
}

async function signIn(event) {
  event.preventDefault();
  const token = $('#token').value.trim();
  const response = await fetch('/admin/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (response.status !== 204) {
    say('That token is not the HUB_ADMIN_TOKEN of this hub.', true);
    return;
  }
  sessionStorage.setItem(tokenKey, token);
  state.token = token;
  $('#token').value = '';
  say('Signed in.');
  showApp(true);
  await attempt(() => searchEvents());
}

// --- Event log

function filtersFromForm() {
  const form = new FormData($('#event-filters'));
  const query = new URLSearchParams();
  for (const name of ['type', 'mlsNumber', 'clientId', 'outcome']) {
    const value = String(form.get(name) || '').trim();
    if (value) query.set(name, value);
  }
  for (const name of ['since', 'until']) {
    const value = String(form.get(name) || '');
    if (value) query.set(name, new Date(value).toISOString());
  }
  return query;
}

async function searchEvents(more = false) {
  if (!more) {
    state.filters = filtersFromForm();
    state.cursor = null;
    $('#event-table tbody').replaceChildren();
  }
  const query = new URLSearchParams(state.filters);
  if (state.cursor) query.set('cursor', state.cursor);
  const page = await call('GET', `/events?${query}`);
  const rows = page.events.map((event) =>
    el(
      'tr',
      {},
      el('td', {}, time(event.receivedAt)),
      el('td', {}, event.event),
      el('td', { class: `outcome-${event.outcome}` }, event.outcome),
      el('td', {}, event.outcomeDetail || ''),
      el('td', {}, el('button', { type: 'button', title: event.eventId, onclick: () => attempt(() => openEvent(event.eventId)) }, shortId(event.eventId))),
    ),
  );
  $('#event-table tbody').append(...rows);
  state.cursor = page.nextCursor;
  $('#more-events').hidden = !page.nextCursor;
  const rowCount = $('#event-table tbody').children.length;
  say(`${rowCount} ${rowCount === 1 ? 'event' : 'events'} shown.`);
}

function describeAction(action) {
  const to = typeof action.to === 'object' ? `channel ${action.to.channel}` : action.to;
  return `${action.connector} "${action.template}" to ${to}`;
}

function renderRules(trace) {
  const list = $('#detail-rules');
  list.replaceChildren();
  const versions =
    trace.ruleSetVersion && trace.ruleSetVersion !== trace.liveRuleSetVersion
      ? ` Routed under rule set ${trace.ruleSetVersion}; the live rule set is ${trace.liveRuleSetVersion}.`
      : '';
  if (trace.matchedRules === null) {
    $('#detail-rules-note').textContent = `No rule trace is recorded for this event.${versions}`;
    return;
  }
  $('#detail-rules-note').textContent = (trace.matchedRules.length === 0 ? 'No rule matched this event.' : '') + versions;
  for (const rule of trace.matchedRules) {
    list.append(
      el(
        'li',
        { class: 'rule' },
        el('strong', {}, rule.id),
        rule.live ? ` — ${rule.description}` : ' — no longer in the live rules',
        rule.live ? el('div', {}, 'Condition: ', el('code', {}, JSON.stringify(rule.when))) : null,
        rule.live ? el('div', {}, 'Actions: ', rule.actions.map(describeAction).join('; ')) : null,
      ),
    );
  }
}

function deliveryErrors(delivery) {
  const errors = [];
  if (delivery.lastError) errors.push(delivery.lastError);
  if (delivery.job) for (const error of delivery.job.errors) if (!errors.includes(error)) errors.push(error);
  return errors;
}

function renderDeliveries(deliveries) {
  const rows = deliveries.map((delivery) =>
    el(
      'tr',
      { 'data-key': delivery.key },
      el('td', {}, delivery.ruleId),
      el('td', {}, delivery.connector),
      el('td', {}, delivery.recipient),
      el('td', { class: `status status-${delivery.status}` }, delivery.status),
      el('td', {}, String(delivery.attempts)),
      el('td', {}, el('ul', {}, deliveryErrors(delivery).map((error) => el('li', {}, error)))),
      el('td', {}, el('code', { title: 'idempotency key' }, delivery.key)),
      el(
        'td',
        {},
        delivery.status === 'failed'
          ? el('button', { type: 'button', onclick: () => attempt(() => retry(delivery.key, delivery.eventId)) }, 'Retry')
          : null,
      ),
    ),
  );
  $('#delivery-table tbody').replaceChildren(...rows);
  if (rows.length === 0) $('#delivery-table tbody').append(el('tr', {}, el('td', { colspan: 8 }, 'This event made no delivery.')));
}

async function openEvent(eventId) {
  const detail = await call('GET', `/events/${encodeURIComponent(eventId)}`);
  state.currentEventId = eventId;
  const event = detail.event;
  $('#detail-id').textContent = event.eventId;
  const summary = [
    ['Type', event.event],
    ['Received', time(event.receivedAt)],
    ['Source', `${event.source} at ${event.path}`],
    ['Verification', `${detail.verification.verified ? 'verified' : 'not verified'}: ${detail.verification.method}`],
    ['Outcome', `${event.outcome}${event.outcomeDetail ? ` (${event.outcomeDetail})` : ''}`],
    ['Replays', String(event.replayCount)],
  ];
  $('#detail-summary').replaceChildren(...summary.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]));
  renderRules(detail.trace);
  $('#detail-subjects').textContent =
    detail.trace.subjects.map((subject) => `${subject.kind} ${subject.value}`).join(', ') || 'No listing, client or agent recorded.';
  renderDeliveries(detail.deliveries);
  $('#detail-payload').textContent = JSON.stringify(detail.payload, null, 2);
  $('#event-detail').hidden = false;
  return detail;
}

const unfinished = new Set(['pending', 'sending']);

async function retry(key, eventId) {
  const result = await call('POST', `/deliveries/${encodeURIComponent(key)}/retry`);
  say(`Delivery ${shortId(key)} queued again (${result.via === 'job' ? 'its failed job was retried' : 'rebuilt from its event'}).`);
  const deadline = Date.now() + pollForMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollEveryMs));
    const delivery = await call('GET', `/deliveries/${encodeURIComponent(key)}`);
    if (!unfinished.has(delivery.status)) {
      say(`Delivery ${shortId(key)} is ${delivery.status}.`);
      break;
    }
  }
  if (state.currentEventId === eventId && !$('#events').hidden) await openEvent(eventId);
  if (!$('#failed').hidden) await loadFailed();
}

async function replay(force) {
  const eventId = state.currentEventId;
  if (!eventId) return;
  if (force && !window.confirm('Send every delivery of this event again, including those already sent?')) return;
  const result = await call('POST', `/events/${encodeURIComponent(eventId)}/replay`, { force });
  say(`Replay ${result.replayNumber} queued as job ${result.jobId}.`);
}

// --- Failed deliveries

async function loadFailed() {
  const connector = String(new FormData($('#failed-filters')).get('connector') || '').trim();
  const query = new URLSearchParams({ status: 'failed', limit: '200' });
  if (connector) query.set('connector', connector);
  const { deliveries } = await call('GET', `/deliveries?${query}`);
  const rows = deliveries.map((delivery) =>
    el(
      'tr',
      { 'data-key': delivery.key },
      el('td', {}, time(delivery.updatedAt)),
      el('td', {}, delivery.connector),
      el('td', {}, delivery.ruleId),
      el('td', {}, delivery.recipient),
      el('td', {}, String(delivery.attempts)),
      el('td', {}, delivery.lastError || ''),
      el('td', {}, el('button', { type: 'button', onclick: () => attempt(() => openFromFailed(delivery.eventId)) }, shortId(delivery.eventId))),
      el('td', {}, el('button', { type: 'button', onclick: () => attempt(() => retry(delivery.key, delivery.eventId)) }, 'Retry')),
    ),
  );
  $('#failed-table tbody').replaceChildren(...rows);
  if (rows.length === 0) $('#failed-table tbody').append(el('tr', {}, el('td', { colspan: 8 }, 'No failed delivery.')));
}

async function openFromFailed(eventId) {
  showTab('events');
  await openEvent(eventId);
}

async function retryAll() {
  const connector = String(new FormData($('#failed-filters')).get('connector') || '').trim();
  const result = await call('POST', '/deliveries/retry', connector ? { connector } : {});
  say(`${result.retried.length} delivery(ies) queued again; ${result.notRetried.length} not retried.`);
  await loadFailed();
}

// --- Rule tester

function renderPreview(delivery) {
  const heading = `${delivery.ruleId}: ${delivery.connector} "${delivery.template}" to ${delivery.recipient}`;
  const parts = [el('h4', {}, heading)];
  if (delivery.recordedStatus) parts.push(el('p', {}, `Already recorded for this event as ${delivery.recordedStatus}.`));
  if (delivery.skipped) parts.push(el('p', {}, `Would be skipped: ${delivery.skipped}`));
  if (delivery.error) parts.push(el('p', { class: 'error' }, `Cannot render: ${delivery.error}`));
  if (delivery.preview) {
    parts.push(el('p', {}, `To: ${delivery.preview.target}`));
    if (delivery.preview.subject) parts.push(el('p', {}, `Subject: ${delivery.preview.subject}`));
    parts.push(el('pre', {}, delivery.preview.text));
  }
  return el('div', { class: 'preview' }, parts);
}

/** Reads the tester form as a request body, or returns null after saying what is wrong with it. */
function testerRequest() {
  const form = new FormData($('#tester-form'));
  const eventId = String(form.get('eventId') || '').trim();
  if (eventId) return { eventId };

  let payload;
  try {
    payload = JSON.parse(String(form.get('payload') || ''));
  } catch (error) {
    say(`The payload is not valid JSON: ${error.message}`, true);
    return null;
  }
  return { event: String(form.get('event') || '').trim(), payload };
}

function evaluationRow(evaluation) {
  let matched = evaluation.matched ? 'yes' : 'no';
  if (evaluation.error) matched = `error: ${evaluation.error}`;
  return el(
    'tr',
    {},
    el('td', {}, evaluation.ruleId),
    el('td', {}, evaluation.favoriteId || ''),
    el('td', {}, evaluation.clientId || ''),
    el('td', {}, evaluation.agentId || ''),
    el('td', {}, matched),
  );
}

async function testRules(event) {
  if (event) event.preventDefault();
  const body = testerRequest();
  if (!body) return;
  const result = await call('POST', '/rules/preview', body);

  const matched = result.matchedRules.length > 0 ? result.matchedRules.join(', ') : 'none';
  const considered = result.rulesForEvent.length > 0 ? result.rulesForEvent.join(', ') : 'none';
  const unknown = result.unknownFavoriteIds.length > 0 ? ` ${result.unknownFavoriteIds.length} ${result.unknownFavoriteIds.length === 1 ? 'favorite is' : 'favorites are'} not in the mirror.` : '';
  $('#tester-summary').textContent = `Rule set ${result.ruleSetVersion}. Rules for ${result.eventType}: ${considered}. Matched: ${matched}.${unknown}`;

  $('#evaluation-table tbody').replaceChildren(...result.evaluations.map(evaluationRow));
  const previews = result.deliveries.length > 0 ? result.deliveries.map(renderPreview) : [el('p', {}, 'No message would be sent.')];
  $('#tester-previews').replaceChildren(...previews);
  $('#tester-result').hidden = false;
  say('Rules evaluated; nothing was sent.');
}

async function testCurrentEvent() {
  if (!state.currentEventId) return;
  showTab('tester');
  $('#tester-form').elements.eventId.value = state.currentEventId;
  await testRules();
}

// --- Wiring

document.addEventListener('DOMContentLoaded', () => {
  $('#sign-in-form').addEventListener('submit', (event) => void attempt(() => signIn(event)));
  $('#sign-out').addEventListener('click', () => signOut());
  for (const button of document.querySelectorAll('#tabs button[data-tab]')) {
    button.addEventListener('click', () => showTab(button.dataset.tab));
  }
  $('#event-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void attempt(() => searchEvents());
  });
  $('#more-events').addEventListener('click', () => void attempt(() => searchEvents(true)));
  $('#replay').addEventListener('click', () => void attempt(() => replay(false)));
  $('#replay-force').addEventListener('click', () => void attempt(() => replay(true)));
  $('#test-event').addEventListener('click', () => void attempt(testCurrentEvent));
  $('#failed-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void attempt(loadFailed);
  });
  $('#retry-all').addEventListener('click', () => void attempt(retryAll));
  $('#tester-form').addEventListener('submit', (event) => void attempt(() => testRules(event)));

  showApp(Boolean(state.token));
  if (state.token) void attempt(() => searchEvents());
});
