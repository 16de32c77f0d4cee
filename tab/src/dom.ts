/**
 * A tiny element builder. Text always goes in as text (never as HTML), so nothing a person typed — an
 * issue title, a question, a pulse answer — can become markup here.
 */

type Attrs = Record<string, string | number | boolean | undefined | null | EventListener>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'className') el.className = String(v);
    // Through the CSSOM: the page's CSP (style-src 'self') refuses style attributes, not this.
    else if (k === 'style') el.style.cssText = String(v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children (null and false children are skipped). */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  while (el.firstChild) el.firstChild.remove();
  append(el, children);
}

/** Announces a short message to screen readers (and shows it) in the page's live region. */
export function announce(text: string, tone: 'info' | 'error' | 'success' = 'info'): void {
  const region = document.getElementById('status');
  if (!region) return;
  region.textContent = text;
  region.dataset.tone = tone;
}

/** A view or list that could not be loaded: why, and a button that loads it again (storage back, a fresh token). */
export function failure(text: string, retry: () => void): HTMLElement {
  return h('div', { className: 'notice', role: 'alert' }, h('p', {}, text), h('button', { type: 'button', onclick: () => retry() }, 'Try again'));
}
