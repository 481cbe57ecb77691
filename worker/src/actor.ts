/** Who made an admin call, as the audit trail records it. */
export type Actor = "admin-token" | "read-token" | `access:${string}` | "rollout";
