/** A tiny element builder: enough DOM help to keep the views declarative without a framework. */
type Child = Node | string | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined)
      element.setAttribute(name, String(value));
  }
  append(element, ...children);
  return element;
}

export function append(parent: Element, ...children: Child[]): void {
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) parent.append(child);
}

/** The element with `data-testid`, which the views always create: a missing one is a bug. */
export function part<T extends Element = HTMLElement>(root: ParentNode, testId: string): T {
  const element = root.querySelector<Element>(`[data-testid="${testId}"]`);
  if (element === null) throw new Error(`missing element ${testId}`);
  return element as T;
}
