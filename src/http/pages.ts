import { CONSENT_SENTENCE } from '../domain/terms';
import { escapeHtml as e } from '../lib/html';

/** What every page needs to know about the site. */
export interface PageContext {
  siteName: string;
  termsUrl: string;
  termsVersion: string;
  /** The terms as plain text, for the built-in /terms page. */
  termsText: string;
}

function layout(ctx: PageContext, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${e(title)} · ${e(ctx.siteName)}</title>
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<main>
<div class="brand">${e(ctx.siteName)}</div>
${body}
</main>
</body>
</html>`;
}

export interface SignupFormState {
  error?: string;
  email?: string;
  name?: string;
  source?: string;
  /** The newsletters ticked: the visitor's own ticks when the form comes back with an error. */
  ticked?: string[];
}

/** A newsletter as a page offers it. */
export interface OfferedNewsletter {
  slug: string;
  name: string;
  description: string;
}

/**
 * The newsletter choice of a form: with several, a fieldset of checkboxes and an empty field with the same name, so
 * that a submit with nothing ticked still says "the reader chose nothing" (refused) rather than "no choice" (the
 * default); with one, a hidden field naming it (no choice to make); with none, nothing.
 */
function newsletterChoice(offered: OfferedNewsletter[], ticked: string[], legend: string): string {
  if (offered.length === 0) return '';
  if (offered.length === 1)
    return `<input type="hidden" name="newsletters" value="${e(offered[0].slug)}" data-name="${e(offered[0].name)}">`;
  const boxes = offered
    .map((n) => {
      const id = `nl-${n.slug}`;
      // The name labels the box and the description describes it, so a screen reader says each once.
      const description = n.description ? `<p class="description" id="${e(id)}-about">${e(n.description)}</p>` : '';
      return (
        `<div class="choice"><input id="${e(id)}" name="newsletters" type="checkbox" value="${e(n.slug)}" ` +
        `data-name="${e(n.name)}"${ticked.includes(n.slug) ? ' checked' : ''}` +
        `${n.description ? ` aria-describedby="${e(id)}-about"` : ''}>` +
        `<div><label for="${e(id)}">${e(n.name)}</label>${description}</div></div>`
      );
    })
    .join('\n  ');
  return (
    `<fieldset class="newsletters"><legend>${e(legend)}</legend>\n  ` +
    `<input type="hidden" name="newsletters" value="">\n  ${boxes}\n</fieldset>`
  );
}

export function signupPage(ctx: PageContext, state: SignupFormState = {}, offered: OfferedNewsletter[] = []): string {
  const message =
    `<div id="message" class="message${state.error ? ' error' : ''}" role="status" aria-live="polite"` +
    `${state.error ? '' : ' hidden'}>${state.error ? e(state.error) : ''}</div>`;
  const emailInput =
    `<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" ` +
    `value="${e(state.email ?? '')}">`;
  const honeypot =
    `<div class="hp" aria-hidden="true"><label for="website">Leave this field empty</label>` +
    `<input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>`;
  const termsLink = `<a href="${e(ctx.termsUrl)}" target="_blank" rel="noopener">terms</a>`;
  const consent =
    `<div class="consent"><input id="consent" name="consent" type="checkbox" value="true" required>` +
    `<label for="consent">${e(CONSENT_SENTENCE.replace(' the terms.', ''))} the ${termsLink}.</label></div>`;
  return layout(
    ctx,
    'Subscribe',
    `<h1>Sign up to receive our latest news!</h1>
${message}
<form id="signup" method="post" action="/api/subscriptions" novalidate>
  <label for="email">Email address</label>
  ${emailInput}
  <label for="name">Name <span class="muted">(optional)</span></label>
  <input id="name" name="name" type="text" autocomplete="name" maxlength="100" value="${e(state.name ?? '')}">
  ${newsletterChoice(offered, state.ticked ?? [], 'Choose your newsletters')}
  ${honeypot}
  <input type="hidden" name="termsVersion" value="${e(ctx.termsVersion)}">
  <input type="hidden" name="source" value="${e(state.source ?? 'signup-page')}">
  ${consent}
  <button type="submit">Subscribe</button>
</form>
<p class="muted">We send a confirmation link first. You can leave with one click from any newsletter.</p>
<script src="/assets/signup.js" defer></script>`,
  );
}

/** The terms a visitor agrees to (TERMS_TEXT_FILE), for sites that link TERMS_URL to this service. */
export function termsPage(ctx: PageContext): string {
  const paragraphs = ctx.termsText
    .split(/\n\s*\n/)
    .map((p) => `<p>${e(p.trim())}</p>`)
    .join('\n');
  return layout(
    ctx,
    'Terms',
    `<h1>Terms</h1><p class="muted">Version ${e(ctx.termsVersion)}</p>\n${paragraphs}\n` +
      `<p><a href="/">Back to the signup form</a></p>`,
  );
}

export function thanksPage(ctx: PageContext, names: string[] = []): string {
  const what = names.length ? ` to ${andList(names)}` : '';
  return layout(
    ctx,
    'Check your inbox',
    `<h1>Check your inbox</h1>` +
      `<div class="message ok" role="status">Almost done: we have sent you a link to confirm your subscription` +
      `${e(what)}.</div>` +
      `<p>If nothing arrives within a few minutes, look in your spam folder.</p>`,
  );
}

export function confirmPage(ctx: PageContext, token: string): string {
  return layout(
    ctx,
    'Confirm your subscription',
    `<h1>Confirm your subscription</h1><p>One more click and you will receive our newsletter.</p>\n` +
      `<form method="post" action="/confirm"><input type="hidden" name="token" value="${e(token)}">` +
      `<button type="submit">Confirm my subscription</button></form>`,
  );
}

export function confirmedPage(ctx: PageContext, already: boolean): string {
  return layout(
    ctx,
    'Subscribed',
    `<h1>${already ? 'You are already subscribed' : 'You are subscribed'}</h1>` +
      `<div class="message ok" role="status">Thank you. Our next newsletter will reach you by email.</div>`,
  );
}

/** What the unsubscribe page knows (see Subscriptions.checkUnsubscribeToken). */
export interface UnsubscribePageState {
  subscribed: boolean;
  newsletter?: { name: string; receiving: boolean };
  preferencesUrl?: string;
}

export function unsubscribePage(ctx: PageContext, token: string, state: UnsubscribePageState): string {
  if (!state.subscribed) return unsubscribedPage(ctx);
  const action = `/unsubscribe?token=${e(encodeURIComponent(token))}`;
  // "everything" travels in the body: the URL stays the one List-Unsubscribe names, whose one-click POST leaves
  // only its newsletter.
  const everything =
    `<form method="post" action="${action}"><input type="hidden" name="scope" value="everything">` +
    `<button type="submit" class="secondary">Unsubscribe from everything</button></form>`;
  const preferences = state.preferencesUrl
    ? `<p>Or <a href="${e(state.preferencesUrl)}">choose which newsletters you receive</a>.</p>`
    : '';
  const n = state.newsletter;
  if (!n)
    return layout(
      ctx,
      'Unsubscribe',
      `<h1>Unsubscribe</h1><p>Click the button to stop receiving all our newsletters.</p>\n` +
        `<form method="post" action="${action}"><button type="submit">Unsubscribe</button></form>\n${preferences}`,
    );
  if (!n.receiving)
    return layout(
      ctx,
      'Unsubscribe',
      `<h1>Unsubscribe</h1><div class="message ok" role="status">You no longer receive ${e(n.name)}.</div>\n` +
        `<p>To stop receiving anything from us:</p>\n${everything}\n${preferences}`,
    );
  return layout(
    ctx,
    'Unsubscribe',
    `<h1>Unsubscribe from ${e(n.name)}</h1><p>Click the button to stop receiving ${e(n.name)}. ` +
      `Any other newsletters you receive keep coming.</p>\n` +
      `<form method="post" action="${action}"><button type="submit">Unsubscribe from ${e(n.name)}</button></form>\n` +
      `<p>Or leave altogether:</p>\n${everything}\n${preferences}`,
  );
}

export function unsubscribedPage(ctx: PageContext): string {
  return layout(
    ctx,
    'Unsubscribed',
    `<h1>You are unsubscribed</h1>` +
      `<div class="message ok" role="status">You will not receive our newsletters any more.</div>` +
      `<p>Changed your mind? <a href="/">Sign up again</a>.</p>`,
  );
}

/** After leaving one newsletter: the others keep coming, and the preference page shows which. */
export function leftNewsletterPage(ctx: PageContext, name: string, preferencesUrl?: string): string {
  return layout(
    ctx,
    'Unsubscribed',
    `<h1>You are unsubscribed from ${e(name)}</h1>` +
      `<div class="message ok" role="status">You will not receive ${e(name)} any more.</div>` +
      (preferencesUrl
        ? `<p>Any other newsletters you chose keep coming. <a href="${e(preferencesUrl)}">Choose your newsletters</a>.</p>`
        : ''),
  );
}

/** What the preference page shows (see Preferences.view). */
export interface PreferencesPageState {
  token: string;
  email: string;
  choices: (OfferedNewsletter & { receiving: boolean })[];
  /** A line at the top: saved, or what went wrong. */
  notice?: { kind: 'ok' | 'error'; text: string };
}

/**
 * The reader's newsletters, theirs ticked, with one Save; and "Unsubscribe from everything". Plain forms, no
 * script: it works in any mail app's browser. The token goes in the body, not the form's URL.
 */
export function preferencesPage(ctx: PageContext, state: PreferencesPageState): string {
  const notice = state.notice
    ? `<div id="message" class="message ${state.notice.kind}" role="${state.notice.kind === 'error' ? 'alert' : 'status'}">` +
      `${e(state.notice.text)}</div>`
    : '';
  const ticked = state.choices.filter((c) => c.receiving).map((c) => c.slug);
  const boxes = newsletterChoice(state.choices, ticked, 'Tick the newsletters you want');
  // With a single newsletter there is no box to untick: leaving is the button below.
  const form =
    state.choices.length > 1
      ? `<form id="preferences" method="post" action="/preferences">\n` +
        `<input type="hidden" name="token" value="${e(state.token)}">\n${boxes}\n` +
        `<p class="muted">Untick every newsletter to leave altogether.</p>\n` +
        `<button type="submit">Save my choices</button></form>\n`
      : `<p>You receive ${e(state.choices.find((c) => c.receiving)?.name ?? 'our newsletter')}.</p>\n`;
  return layout(
    ctx,
    'Your newsletters',
    `<h1>Your newsletters</h1>\n${notice}<p class="muted">For ${e(state.email)}</p>\n${form}` +
      `<h2>Leave altogether</h2>\n` +
      `<form method="post" action="/preferences"><input type="hidden" name="token" value="${e(state.token)}">` +
      `<input type="hidden" name="action" value="unsubscribe-all">` +
      `<button type="submit" class="secondary">Unsubscribe from everything</button></form>`,
  );
}

/** For a preference link of someone who receives nothing now: pending, unsubscribed, bounced or erased. */
export function notSubscribedPage(ctx: PageContext): string {
  return layout(
    ctx,
    "You're not subscribed",
    `<h1>You're not subscribed</h1>` +
      `<div class="message" role="status">This address does not receive any of our newsletters at the moment.</div>` +
      `<p>Want them again? <a href="/">Sign up</a>: we will send a link to confirm.</p>`,
  );
}

/** "A", "A and B", "A, B and C". */
function andList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function errorPage(ctx: PageContext, title: string, message: string): string {
  return layout(
    ctx,
    title,
    `<h1>${e(title)}</h1><div class="message error" role="alert">${e(message)}</div>` +
      `<p><a href="/">Back to the signup form</a></p>`,
  );
}
