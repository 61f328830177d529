import { escapeHtml as e } from '../lib/html';

/**
 * The console's own pages, server-rendered: no script at all (the CSP's script-src 'self' would refuse inline
 * script anyway), so signing in works without JavaScript. The site's stylesheet is reused.
 */
function layout(siteName: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${e(title)} · ${e(siteName)}</title>
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<main>
<div class="brand">${e(siteName)}</div>
${body}
</main>
</body>
</html>`;
}

export function signInPage(siteName: string, state: { error?: string; email?: string } = {}): string {
  const message = state.error ? `<div id="message" class="message error" role="alert">${e(state.error)}</div>` : '';
  return layout(
    siteName,
    'Sign in',
    `<h1>Sign in</h1>
${message}
<form method="post" action="/admin/sign-in">
  <label for="email">Email</label>
  <input id="email" name="email" type="text" inputmode="email" autocomplete="username" required maxlength="254" value="${e(state.email ?? '')}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
  <button type="submit">Sign in</button>
</form>`,
  );
}
