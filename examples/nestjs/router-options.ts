import { tenantsFromEntity, type TenantRouterOptions } from "typeorm-router";
import { Account } from "./entities/account.entity";
import { Note } from "./entities/note.entity";
import { Plan } from "./entities/plan.entity";
import { CreateAccounts1700000000101 } from "./migrations/1700000000101-create-accounts";
import { CreateNotes1700000000102 } from "./migrations/1700000000102-create-notes";

/**
 * The router of the example on one PostgreSQL server: accounts (the tenant directory) in
 * `default`, the read-only `catalog` database of another system, and a database per tenant.
 * `url(name)` gives the URL of the database called `name`.
 */
export function exampleRouterOptions(url: (database: string) => string): TenantRouterOptions {
  return {
    entities: [Account, Note, Plan],
    databases: {
      default: { type: "postgres", url: url("default") },
      catalog: { options: { type: "postgres", url: url("catalog") }, readOnly: true },
    },
    tenants: {
      ...tenantsFromEntity(Account, "slug"),
      options: (tenant) => ({ type: "postgres", url: url(`tenant_${tenant}`) }),
    },
    migrations: { default: [CreateAccounts1700000000101], tenant: [CreateNotes1700000000102] },
  };
}
