// A small element builder: text is always set as text, so nothing the API returns becomes markup.

type Child = Node | string | number | false | null | undefined;
type Prop = string | number | boolean | undefined | ((event: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Record<string, Prop> = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === false || child === null || child === undefined) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function percent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * The browser's time zone as a short name (`UTC`, `CET`, `GMT+1`). Named in en-US whatever
 * `navigator.language` says, so it is the same word in the table, the charts and the samples.
 */
export function zoneName(date = new Date()): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(date)
    .find((entry) => entry.type === "timeZoneName");
  return part?.value ?? "local time";
}

/** `HH:MM`, or `HH:MM:SS`, in the browser's time zone. */
export function localClock(date: Date, seconds = true): string {
  const clock = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
  return seconds ? `${clock}:${pad2(date.getSeconds())}` : clock;
}

/**
 * `YYYY-MM-DD HH:MM:SS UTC`: local time with its zone, the one time format of the page (the
 * services table, the charts and the samples), as Daeploy's table shows start times plus the zone.
 */
export function localTimestamp(iso: string | Date): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
  return `${day} ${localClock(date)} ${zoneName(date)}`;
}
