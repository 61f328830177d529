import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { Parser } from 'htmlparser2';

/**
 * Helmet's security headers, with the Content-Security-Policy of every page the service writes itself (signup, thanks, terms, confirm, unsubscribe,
 * preferences, error pages, the console and its sign-in page): nothing is allowed unless listed, and what is listed
 * is this origin's own files. No inline script or style anywhere, not even by nonce: pages link /assets and
 * /admin/assets. `connect-src` is for the signup script's fetch and the console's API calls and live updates;
 * `frame-src` only for the console's compose page, which shows the draft's preview in a frame.
 */
export function securityHeaders(opts: { https: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'img-src': ["'self'"],
        'connect-src': ["'self'"],
        'frame-src': [(req: IncomingMessage) => (framesPreview(req.url) ? "'self'" : "'none'")],
        'form-action': ["'self'"],
        'base-uri': ["'none'"],
        'frame-ancestors': ["'none'"],
        // Only an https site may tell browsers to upgrade requests; on http://localhost that would break the form.
        ...(opts.https ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
  });
}

/** The compose page frames the draft's preview (served with its own policy); no other page has a frame. */
function framesPreview(url: string | undefined): boolean {
  return url === '/admin/compose' || url?.startsWith('/admin/compose?') === true;
}

/**
 * The policy of a newsletter shown as a page (the public web version, the console's preview). Its HTML is the
 * mail's: MJML writes styles in `style` attributes and `<style>` blocks, which a mail client needs and a page
 * may not have under 'unsafe-inline'. So each one is allowed by its own hash ('unsafe-hashes' extends hashes to
 * attributes): the page keeps every style it was sent with, and nothing added to it later (a style or a script
 * injected through an article, say) matches. No script, form or plugin; images from anywhere, as in the mail.
 * `frameAncestors`: 'none' for the public page, 'self' for the preview the console frames.
 */
export function newsletterPagePolicy(html: string, frameAncestors: "'none'" | "'self'"): string {
  const styles = [...inlineStyleHashes(html)].map((h) => `'sha256-${h}'`);
  return [
    "default-src 'none'",
    styles.length ? `style-src 'unsafe-hashes' ${styles.join(' ')}` : "style-src 'none'",
    'img-src https: http: data:',
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** Recently served newsletters' hashes: the web version of a new issue is read by many people at once. */
const recent = new Map<string, Set<string>>();
const RECENT_MAX = 32;

/**
 * The base64 SHA-256 of each `<style>` element's text and each `style` attribute's value, as a browser computes
 * them: after the HTML parser (attribute entities decoded, line breaks normalised to LF). htmlparser2 tokenises
 * as browsers do for this purpose, comments and conditional comments included.
 */
export function inlineStyleHashes(html: string): Set<string> {
  const key = createHash('sha256').update(html).digest('base64');
  const known = recent.get(key);
  if (known) return known;
  const hashes = new Set<string>();
  const add = (text: string) =>
    hashes.add(createHash('sha256').update(text.replace(/\r\n?/g, '\n'), 'utf8').digest('base64'));
  let inStyle = false;
  let styleText = '';
  const parser = new Parser(
    {
      onattribute(name, value) {
        if (name === 'style') add(value);
      },
      onopentagname(name) {
        if (name === 'style') {
          inStyle = true;
          styleText = '';
        }
      },
      ontext(text) {
        if (inStyle) styleText += text;
      },
      onclosetag(name) {
        if (name === 'style' && inStyle) {
          inStyle = false;
          add(styleText);
        }
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: true, lowerCaseTags: true },
  );
  parser.end(html);
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(key, hashes);
  return hashes;
}
