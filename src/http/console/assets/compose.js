// The composer: keeps one draft in step with the form (created on the first save, then edited on each change), shows
// its preview and size, and sends a test, schedules it or sends it. Every change goes through /api/admin/campaigns.
import { api, ApiError, attempt, say } from './api.js';

const form = document.getElementById('compose');
const list = document.getElementById('articles');
const limit = Number(form.dataset.limit);
const $ = (id) => document.getElementById(id);
let draftId = null;
let saving = Promise.resolve();
let timer;

const chosenIds = () =>
  [...(list?.querySelectorAll('li.article') ?? [])]
    .filter((li) => li.querySelector('input[type="checkbox"]').checked)
    .map((li) => Number(li.dataset.id));

function clearErrors(scope = document) {
  for (const p of scope.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of scope.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function fieldError(name, message) {
  const p = $(`err-${name}`);
  if (!p) return false;
  p.textContent = message;
  p.hidden = false;
  $(`f-${name}`)?.setAttribute('aria-invalid', 'true');
  return true;
}

/** The API's error beside the field it names (the campaign API puts the field first in its message). */
function showApiError(err, fields) {
  const field = fields.find((f) => err.message.startsWith(`${f}:`) || err.message.startsWith(`${f} `));
  if (!field || !fieldError(field, err.message)) say(err.message, 'error');
  else say('See the message beside the field.', 'error');
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

function showSize(bytes, tooLarge) {
  const bar = $('size-bar');
  bar.value = Math.min(bytes, limit);
  const size = $('size');
  if (tooLarge) {
    size.textContent = `Too large: ${kb(bytes)} of HTML, over the ${kb(limit)} budget. Gmail would clip it: leave out articles.`;
    size.className = 'field-error';
  } else if (bytes > limit * 0.9) {
    size.textContent = `${kb(bytes)} of ${kb(limit)}: close to the budget; Gmail clips mails over it.`;
    size.className = 'warn';
  } else {
    size.textContent = `${kb(bytes)} of ${kb(limit)} (the size at which Gmail clips a mail).`;
    size.className = '';
  }
}

/** Creates the draft or brings it in line with the form; refreshes the preview. Resolves to false when refused. */
async function save() {
  clearErrors(form);
  const subject = form.elements.namedItem('subject').value.trim();
  const preheader = form.elements.namedItem('preheader').value.trim();
  const articleIds = chosenIds();
  if (!articleIds.length) {
    fieldError('articleIds', 'Choose at least one article.');
    return false;
  }
  try {
    if (draftId === null) {
      const body = { newsletter: form.dataset.newsletter, articleIds, ...(subject ? { subject } : {}) };
      if (preheader) body.preheader = preheader;
      const made = await api('/campaigns', { method: 'POST', body });
      draftId = made.id;
      for (const id of ['preview-section', 'test-section', 'schedule-section', 'send-section']) $(id).hidden = false;
    } else {
      await api(`/campaigns/${draftId}`, {
        method: 'PATCH',
        body: { articleIds, preheader, ...(subject ? { subject } : {}) },
      });
    }
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === 'newsletter_too_large' && err.details) showSize(err.details.htmlBytes, true);
    showApiError(err, ['subject', 'preheader', 'articleIds']);
    return false;
  }
  $('draft-state').textContent = `Draft #${draftId} saved.`;
  await preview();
  return true;
}

let previews = 0;

async function preview() {
  const url = `/api/admin/campaigns/${draftId}/preview`;
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) return say(`The preview failed (HTTP ${res.status}).`, 'error');
  // Loaded by URL, not srcdoc: a srcdoc frame would live under this page's policy, which allows no inline style,
  // while the preview comes with its own (its styles by hash). The sandbox has no permissions: the newsletter's
  // HTML runs no script and reaches nothing of the console. The counter makes each save load afresh.
  $('preview').src = `${url}?v=${++previews}`;
  showSize(Number(res.headers.get('Newsletter-Html-Bytes')), false);
}

/** Saves one at a time, so two quick changes cannot race each other's PATCH. */
function queueSave() {
  saving = saving.then(() => attempt(save));
  return saving;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void queueSave();
});

// Once there is a draft, changes save themselves after a pause in typing: the preview follows the form.
function changed() {
  if (draftId === null) return;
  clearTimeout(timer);
  timer = setTimeout(queueSave, 500);
}
form.addEventListener('input', changed);

list?.addEventListener('click', (event) => {
  const button = event.target.closest('button.up, button.down');
  if (!button) return;
  const li = button.closest('li');
  const up = button.classList.contains('up');
  const other = up ? li.previousElementSibling : li.nextElementSibling;
  if (!other) return;
  if (up) other.before(li);
  else other.after(li);
  // Keep the keyboard where it was: the same button on the moved article.
  button.focus();
  say(`Moved "${li.querySelector('.title').textContent}" to position ${[...list.children].indexOf(li) + 1}.`);
  changed();
});

for (const radio of document.querySelectorAll('input[name="width"]'))
  radio.addEventListener('change', () => {
    $('preview').width = radio.value;
  });

$('test-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(event.target);
  const to = $('f-test-to').value.trim();
  if (!to) return void fieldError('to', 'Give an address to send the test to.');
  await saving;
  try {
    const sent = await api(`/campaigns/${draftId}/test`, { method: 'POST', body: { to } });
    say(`Test sent to ${sent.to}.`);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === 'invalid_email') fieldError('to', err.message);
    else say(err.message, 'error');
  }
});

/** A datetime-local value (the operator's wall clock) as ISO 8601 with the operator's offset, which the API needs. */
function withOffset(local) {
  const d = new Date(local);
  if (Number.isNaN(d.getTime())) return null;
  const minutes = -d.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  const pad = (n) => String(n).padStart(2, '0');
  return `${local.length === 16 ? `${local}:00` : local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

$('zone').textContent = Intl.DateTimeFormat().resolvedOptions().timeZone;
$('schedule-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors(event.target);
  const at = withOffset($('f-at').value);
  if (!at) return void fieldError('at', 'Choose a date and time.');
  await saving;
  try {
    const c = await api(`/campaigns/${draftId}/schedule`, { method: 'POST', body: { at } });
    const link = Object.assign(document.createElement('a'), {
      href: `/admin/campaigns/${draftId}`,
      textContent: `campaign #${draftId}`,
    });
    $('scheduled').replaceChildren(`Scheduled for ${new Date(c.scheduledAt).toLocaleString()}: `, link);
    say(`Scheduled for ${c.scheduledAt}.`);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === 'invalid_schedule') fieldError('at', err.message);
    else say(err.message, 'error');
  }
});

const dialog = $('confirm-send');
$('send-now').addEventListener('click', async () => {
  await saving;
  dialog.showModal();
  $('confirm-no').focus();
});
$('confirm-no').addEventListener('click', () => dialog.close());
$('confirm-yes').addEventListener('click', async () => {
  $('confirm-yes').disabled = true;
  const sent = await attempt(() => api(`/campaigns/${draftId}/send`, { method: 'POST' }));
  dialog.close();
  $('confirm-yes').disabled = false;
  if (sent) location.assign(`/admin/campaigns/${draftId}`);
});
