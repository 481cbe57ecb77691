/**
 * A count as every view prints it (reasons, the CLI's tables, the dashboard): whole, with thousands
 * grouped, `1,500`. Fixed to en-US so the API's reasons read the same in any runtime locale.
 */
export const formatCount = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 0 });

/** A count and its noun, singular for one: `1 copy`, `1,500 copies`. */
export const formatCounted = (n: number, one: string, many: string): string =>
  `${formatCount(n)} ${n === 1 ? one : many}`;
