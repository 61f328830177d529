// The newsletter form: sends the fields as the admin API takes them and shows each refused field's message beside it.
import { api, ApiError, attempt, say } from './api.js';

const form = document.getElementById('newsletter-form');
const editing = form.dataset.mode === 'edit';
const value = (name) => form.elements.namedItem(name)?.value.trim() ?? '';

function clearErrors() {
  for (const p of form.querySelectorAll('.field-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Puts the API's message under its field; a field the form does not have goes to the form's own error line. */
function showError(field, message) {
  const id = field.replaceAll('.', '-');
  const p = document.getElementById(`err-${id}`) ?? document.getElementById('err-body');
  p.textContent = `${field === 'body' ? '' : `${field} `}${message}`;
  p.hidden = false;
  document.getElementById(`f-${id}`)?.setAttribute('aria-invalid', 'true');
}

/**
 * The body for the API. An edit sends null for an emptied optional field (the API removes it), a create leaves it
 * out; the settings of the mode not chosen go away, since the API accepts a schedule only for digests and a cap
 * only for alerts.
 */
function body() {
  const none = editing ? null : undefined;
  const mode = form.querySelector('input[name="mode"]:checked')?.value ?? 'digest';
  const cron = value('schedule.cron');
  const perDay = value('alertsPerDay');
  const b = {
    slug: value('slug'),
    name: value('name'),
    description: value('description'),
    fromName: value('fromName') || none,
    public: form.elements.namedItem('public').checked,
    categories: value('categories')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean),
    mode,
    schedule:
      mode === 'digest' && cron
        ? {
            cron,
            timezone: value('schedule.timezone') || 'UTC',
            minArticles: Number(value('schedule.minArticles') || 1),
          }
        : none,
    alertsPerDay: mode === 'alerts' && perDay ? Number(perDay) : none,
  };
  if (editing) delete b.slug;
  return b;
}

function showModeFields() {
  const mode = form.querySelector('input[name="mode"]:checked')?.value;
  document.getElementById('schedule-fields').hidden = mode !== 'digest';
  document.getElementById('alert-fields').hidden = mode !== 'alerts';
}
form.addEventListener('change', showModeFields);
showModeFields();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const slug = form.dataset.slug || value('slug');
  try {
    const saved = editing
      ? await api(`/newsletters/${encodeURIComponent(slug)}`, { method: 'PATCH', body: body() })
      : await api('/newsletters', { method: 'POST', body: body() });
    location.assign(`/admin/newsletters/${encodeURIComponent(saved.slug)}`);
  } catch (err) {
    if (!(err instanceof ApiError)) return void attempt(() => Promise.reject(err));
    const issues = err.details?.issues ?? [];
    for (const issue of issues) showError(issue.field, issue.message);
    say(issues.length ? 'Some fields need a change: see the messages beside them.' : err.message, 'error');
    const first = form.querySelector('[aria-invalid="true"]');
    first?.focus();
  }
});
