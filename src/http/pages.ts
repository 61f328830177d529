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
}

export function signupPage(ctx: PageContext, state: SignupFormState = {}): string {
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

export function thanksPage(ctx: PageContext): string {
  return layout(
    ctx,
    'Check your inbox',
    `<h1>Check your inbox</h1>` +
      `<div class="message ok" role="status">Almost done: we have sent you a link to confirm your subscription.</div>` +
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

export function unsubscribePage(ctx: PageContext, token: string, alreadyGone: boolean): string {
  if (alreadyGone) return unsubscribedPage(ctx);
  return layout(
    ctx,
    'Unsubscribe',
    `<h1>Unsubscribe</h1><p>Click the button to stop receiving our newsletter.</p>\n` +
      `<form method="post" action="/unsubscribe?token=${e(encodeURIComponent(token))}">` +
      `<button type="submit">Unsubscribe</button></form>`,
  );
}

export function unsubscribedPage(ctx: PageContext): string {
  return layout(
    ctx,
    'Unsubscribed',
    `<h1>You are unsubscribed</h1>` +
      `<div class="message ok" role="status">You will not receive our newsletter any more.</div>` +
      `<p>Changed your mind? <a href="/">Sign up again</a>.</p>`,
  );
}

export function errorPage(ctx: PageContext, title: string, message: string): string {
  return layout(
    ctx,
    title,
    `<h1>${e(title)}</h1><div class="message error" role="alert">${e(message)}</div>` +
      `<p><a href="/">Back to the signup form</a></p>`,
  );
}
