// The campaign view: follows the server-sent events of the campaign (no polling from here) and offers pause, resume
// and cancel through the JSON API with the session's CSRF token.

import { api, attempt, count, say } from '/admin/assets/api.js';
import { lineChart } from '/admin/assets/charts.js';

const section = document.getElementById('campaign');
const id = section.dataset.id;
const $ = (x) => document.getElementById(x);

// Minutes without sends are absent from the stream's list: fill them with zeros, from the minute before the first
// send (nothing was sent then), so gaps show as gaps and a first minute has a neighbour (uPlot scales a lone point
// over years).
function minuteData(minutes) {
  if (!minutes.length) return [[], []];
  const counts = new Map(minutes.map((m) => [Date.parse(m.minute) / 1000, m.count]));
  const first = Date.parse(minutes[0].minute) / 1000 - 60;
  const last = Date.parse(minutes.at(-1).minute) / 1000;
  const times = [];
  for (let t = first; t <= last; t += 60) times.push(t);
  return [times, times.map((t) => counts.get(t) ?? 0)];
}
const initial = minuteData(JSON.parse(section.dataset.minutes ?? '[]'));
const chart = lineChart($('minute-chart'), initial[0], [{ label: 'Messages', values: initial[1] }], { bars: true });

const duration = (s) => {
  if (s === null || s === undefined) return '–';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
};

function show(p) {
  if (p.startedAt) $('c-started').textContent = `${p.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  const status = $('c-status');
  status.textContent = p.status;
  status.className = `badge ${p.status}`;
  const max = Math.max(p.total, 1);
  const bar = $('c-progress');
  bar.max = max;
  bar.value = Math.min(p.done, max);
  const percent = p.total ? Math.floor((100 * p.done) / p.total) : 0;
  const text = `${count(p.done)} of ${count(p.total)} (${percent} %)`;
  bar.textContent = text;
  $('c-progress-text').textContent = p.status === 'sent' ? `Done: ${text}` : text;
  for (const k of ['sent', 'failed', 'skipped', 'bounced', 'complained']) $(`c-${k}`).textContent = count(p[k]);
  $('c-rate').textContent =
    p.status === 'sending'
      ? `Rate: ${p.ratePerSecond ?? '–'} messages/s · time left: ${duration(p.secondsLeft)}`
      : `Rate: – · time left: –`;
  $('c-reason').hidden = !p.reason;
  $('c-reason').firstChild.textContent = p.status === 'paused' ? 'Paused itself: ' : 'Reason: ';
  $('c-reason-text').textContent = p.reason ?? '';
  const running = p.status === 'sending' || p.status === 'paused';
  if ($('actions')) {
    $('actions').hidden = !running;
    $('pause').hidden = p.status !== 'sending';
    $('resume').hidden = p.status !== 'paused';
    $('cancel').hidden = !running;
  }
  chart.setData(minuteData(p.perMinute));
}

const events = new EventSource(`/api/admin/campaigns/${id}/events`);
events.addEventListener('progress', (e) => show(JSON.parse(e.data)));
// The server ends the stream once the campaign is finished; closing here stops EventSource from reconnecting.
events.addEventListener('end', () => events.close());
events.addEventListener('failure', (e) => {
  events.close();
  say(`Live progress stopped: ${JSON.parse(e.data).message}`, 'error');
});

async function act(action, done) {
  const button = $(action);
  button.disabled = true;
  await attempt(async () => {
    await api(`/campaigns/${id}/${action}`, { method: 'POST' });
    say(done);
  });
  button.disabled = false;
}

$('pause')?.addEventListener('click', () => act('pause', 'Paused.'));
$('resume')?.addEventListener('click', () => act('resume', 'Resumed.'));
$('cancel')?.addEventListener('click', () => {
  if (confirm(`Cancel campaign #${id}? Messages not yet sent will never go out; this cannot be undone.`))
    void act('cancel', 'Cancelled.');
});
