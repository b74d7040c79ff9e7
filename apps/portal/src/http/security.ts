import type { MiddlewareHandler } from 'hono';

/**
 * The Content-Security-Policy of every page. Scripts run only from the portal itself and the visualization server
 * (which serves the widget), and the page may only connect to those two. No inline script anywhere: page data
 * travels in `data-` attributes and a `<meta>`.
 *
 * `style-src-attr 'unsafe-inline'` is the one allowance: the widget sets a few `style` attributes (the term
 * tree's indentation). A style attribute can neither load a resource (`img-src`, `font-src` stay closed) nor
 * select other elements, unlike a `<style>` block, which stays forbidden.
 *
 * @example
 * contentSecurityPolicy('https://viz.example.org');
 * // "default-src 'none'; script-src 'self' https://viz.example.org; …"
 */
export function contentSecurityPolicy(vizServerUrl: string): string {
  const viz = new URL(vizServerUrl).origin;
  return [
    "default-src 'none'",
    `script-src 'self' ${viz}`,
    `connect-src 'self' ${viz}`,
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Security headers on every response.
 *
 * @example
 * app.use(securityHeaders('https://viz.example.org'));
 */
export function securityHeaders(vizServerUrl: string): MiddlewareHandler {
  const csp = contentSecurityPolicy(vizServerUrl);
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('Content-Security-Policy', csp);
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('X-Frame-Options', 'DENY');
    // Requests to the visualization server carry the origin (it may check it), never the path and query.
    h.set('Referrer-Policy', 'strict-origin-when-cross-origin');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    h.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  };
}
