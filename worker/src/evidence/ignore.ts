import { bodyPathSegments, isWithin } from "./paths.ts";

/*
 * The policy's ignore list, applied while comparing: an ignored subtree is
 * skipped before the comparison's limits (64 differences, depth 32), so it
 * can never fill them and turn into a counting `body many`. The walker
 * follows a trie of the listed body paths by segment (`.key`, `.*`, `[]`,
 * `["odd key"]`, as differences write them), so a subtree no listed path
 * reaches costs one lookup.
 */

export class IgnoreNode {
  readonly children = new Map<string, IgnoreNode>();
  /** This node's path is listed: everything at and under it is ignored. */
  ignored = false;
}

export interface IgnoreList {
  paths: readonly string[];
  /** The listed body paths as a trie from `body`, or undefined when none is a body path below `body`. */
  root: IgnoreNode | undefined;
}

export const NO_IGNORE: IgnoreList = { paths: [], root: undefined };

function compile(paths: readonly string[]): IgnoreList {
  let root: IgnoreNode | undefined;
  for (const path of paths) {
    const segments = bodyPathSegments(path);
    if (!segments || segments.length === 0) continue;
    root ??= new IgnoreNode();
    let node = root;
    for (const segment of segments) {
      const child = node.children.get(segment) ?? new IgnoreNode();
      node.children.set(segment, child);
      node = child;
    }
    node.ignored = true;
  }
  return { paths, root };
}

// Policies are shared by every request of a route table, so each list is compiled once.
const compiled = new WeakMap<readonly string[], IgnoreList>();

export function ignoreList(paths: readonly string[] | undefined): IgnoreList {
  if (!paths || paths.length === 0) return NO_IGNORE;
  let list = compiled.get(paths);
  if (!list) {
    list = compile(paths);
    compiled.set(paths, list);
  }
  return list;
}

/** The node one segment further down, or undefined once no listed path goes there. */
export function underSegment(node: IgnoreNode | undefined, segment: string): IgnoreNode | undefined {
  return node?.children.get(segment);
}

/** Whether a difference at `path` is ignored: the path or one of its ancestors is listed. */
export function ignores(list: IgnoreList, path: string): boolean {
  return list.paths.length > 0 && list.paths.some((prefix) => isWithin(path, prefix));
}
