/**
 * Links in message text, found by linkifyjs (which knows the top-level domains and where trailing
 * punctuation ends a URL) and built as DOM nodes: the text is never parsed as HTML, so markup in a
 * message stays text, and only http(s) and mailto links are made (`javascript:`, `data:`, `file:`,
 * `ftp:`... stay text).
 */
import { find } from 'linkifyjs';

export type Segment =
  | { readonly text: string; readonly href?: undefined }
  | { readonly text: string; readonly href: string };

const ALLOWED = new Set(['http:', 'https:', 'mailto:']);

/** `href` if it is a well-formed http(s) or mailto URL, else undefined. */
function allowedHref(href: string): string | undefined {
  try {
    return ALLOWED.has(new URL(href).protocol) ? href : undefined;
  } catch {
    return undefined;
  }
}

/** `text` cut into plain runs and links, in order; joined, the runs give `text` back. */
export function linkSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let at = 0;
  // A bare "example.com" becomes https, not linkify's default http.
  for (const match of find(text, { defaultProtocol: 'https' })) {
    const href = allowedHref(match.href);
    if (href === undefined) continue;
    if (match.start > at) segments.push({ text: text.slice(at, match.start) });
    segments.push({ text: text.slice(match.start, match.end), href });
    at = match.end;
  }
  if (at < text.length) segments.push({ text: text.slice(at) });
  return segments;
}

/** Message text as text nodes and links that open in a new tab without giving it this page. */
export function linkified(text: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  for (const { text: run, href } of linkSegments(text)) {
    if (href === undefined) {
      fragment.append(document.createTextNode(run));
      continue;
    }
    const link = document.createElement('a');
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = run;
    fragment.append(link);
  }
  return fragment;
}
