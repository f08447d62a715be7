/**
 * The web client's Content-Security-Policy, declared once: the CDK stack sends it from CloudFront
 * (lib/chat-web.ts) and the local stack from its static server (local/static-files.ts), so the local
 * e2e tests run the client under the policy it gets on AWS.
 *
 * Plain data on purpose: no aws-cdk-lib import.
 */

/** The origins the page talks to, besides its own: what its Content-Security-Policy allows. */
export interface WebOrigins {
  /** The HTTP API (`https://…`). */
  readonly rest: string;
  /** The WebSocket API (`wss://…`). */
  readonly webSocket: string;
  /** The files bucket, as presigned upload forms and download URLs name it (`https://…`). */
  readonly files: string;
  /** The Cognito Identity Provider API the page signs in through (`https://cognito-idp.<region>…`). */
  readonly cognito: string;
}

/** A Content-Security-Policy as directive → sources. */
export type CspDirectives = Readonly<Record<string, readonly string[]>>;

/**
 * The page's policy that names none of the stack's resources. Sent as a header with every response
 * (the response headers policy) and repeated in the page's own policy.
 *
 * Not here, on purpose: `default-src`, `connect-src` and `img-src`. A browser enforces every policy it
 * is given (a request must pass all of them), so any of those in the header would also block the API
 * and bucket origins, which only the page's policy can name (see ChatWeb for why).
 */
export const staticCsp: CspDirectives = {
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  // The client sets a few style attributes (an avatar's hue, an image preview's width). Inline style
  // attributes cannot run script; `<style>` elements and inline scripts stay refused.
  'style-src-attr': ["'unsafe-inline'"],
  'font-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'worker-src': ["'none'"],
  // 'self', not 'none': a `<base href="/">` keeps relative asset URLs working under deep links.
  'base-uri': ["'self'"],
  // The forms are handled by script; a real submission (a script error before preventDefault) would put
  // a password in a URL.
  'form-action': ["'none'"],
};

/** Only honoured in a header: browsers ignore these in a `<meta>` policy. */
export const headerOnlyCsp: CspDirectives = {
  'frame-ancestors': ["'none'"],
};

/** The header's policy: everything that names no stack resource. */
export const headerCsp: CspDirectives = { ...staticCsp, ...headerOnlyCsp };

/** The page's full policy (the `<meta>` one): nothing by default, then what the chat needs. */
export function pageCsp(stackOrigins: WebOrigins): CspDirectives {
  return {
    'default-src': ["'none'"],
    ...staticCsp,
    // config.json, the two APIs, the presigned uploads (XMLHttpRequest POST) and the sign-in API.
    'connect-src': [
      "'self'",
      stackOrigins.rest,
      stackOrigins.webSocket,
      stackOrigins.files,
      stackOrigins.cognito,
    ],
    // Avatars and previews are presigned bucket URLs; a file about to be sent is previewed from a blob:.
    // An avatar typed in as a URL elsewhere is refused here and shows the initials.
    'img-src': ["'self'", 'blob:', stackOrigins.files],
  };
}

export function serializeCsp(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, sources]) => [name, ...sources].join(' '))
    .join('; ');
}
