import type { DatabaseFilter } from "../routing/database-selection";

/** The flags that pick databases: `--database` and `--tenant`, both repeatable. */
export interface FilterFlags {
  readonly database: readonly string[];
  readonly tenant: readonly string[];
}

/** The API filter the flags describe; no flag at all selects every database. */
export function filterOf(flags: FilterFlags): DatabaseFilter {
  return {
    ...(flags.database.length > 0 ? { databases: [...flags.database] } : {}),
    ...(flags.tenant.length > 0 ? { tenants: [...flags.tenant] } : {}),
  };
}
