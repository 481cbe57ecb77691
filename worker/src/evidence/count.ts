/**
 * A count as every view prints it (reasons, the CLI's tables, the dashboard): whole, with thousands
 * grouped, `1,500`. Fixed to en-US so the API's reasons read the same in any runtime locale.
 */
export const formatCount = (n: number): string => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
