// Every relative link in the README and the guides leads somewhere: the file exists, and an anchor
// names a heading of that file (as GitHub derives anchors from headings).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`),
];

/** Text outside fenced code blocks: a link or heading inside an example is not one. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = (text ?? "")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

function linksOf(markdown: string): string[] {
  // Inline code is not a link either (a regular expression can look like one).
  const text = prose(markdown).replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? "");
}

describe("the README and the guides", () => {
  it("derive anchors as GitHub does", () => {
    expect([
      ...anchorsOf("# Admin API (`/api/v1`)\n## What it costs\n## What it costs\n```\n# not a heading\n```"),
    ]).toEqual(["admin-api-apiv1", "what-it-costs", "what-it-costs-1"]);
  });

  it("have no broken relative link", () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(root, page), "utf8");
      for (const link of linksOf(text)) {
        if (/^[a-z][a-z+.-]*:/i.test(link)) continue;
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? join(root, page) : resolve(dirname(join(root, page)), path);
        if (!existsSync(target)) {
          broken.push(`${page}: ${link} (no ${relative(root, target)})`);
          continue;
        }
        if (anchor && target.endsWith(".md") && !anchorsOf(readFileSync(target, "utf8")).has(anchor)) {
          broken.push(`${page}: ${link} (no heading #${anchor} in ${relative(root, target)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("keep the README a front door: at most 300 lines", () => {
    expect(readFileSync(join(root, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(300);
  });
});
