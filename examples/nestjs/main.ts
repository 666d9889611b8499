import "reflect-metadata";
import type { INestApplication, NestApplicationOptions } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { Client } from "pg";
import type { TenantRouter } from "typeorm-router";
import { TENANT_ROUTER } from "typeorm-router/nestjs";
import { AppModule } from "./app.module";
import { exampleRouterOptions } from "./router-options";

/**
 * Builds the example application on the PostgreSQL server at `server` (databases
 * `<prefix>default`, `<prefix>catalog` and `<prefix>tenant_<id>`), migrates `default` and
 * makes sure the tenants `acme` and `globex` exist.
 */
export async function createApp(
  server: string,
  prefix: string,
  nestOptions: NestApplicationOptions = {},
): Promise<INestApplication> {
  const url = (database: string) => {
    const parsed = new URL(server);
    parsed.pathname = `/${prefix}${database}`;
    return parsed.toString();
  };
  // The catalog belongs to another system; create a stand-in once.
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    for (const name of ["default", "catalog"]) {
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        prefix + name,
      ]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${prefix}${name}"`);
    }
  } finally {
    await admin.end();
  }
  const catalog = new Client({ connectionString: url("catalog") });
  await catalog.connect();
  await catalog.query(
    "CREATE TABLE IF NOT EXISTS plans (id integer PRIMARY KEY, name varchar NOT NULL);" +
      "INSERT INTO plans VALUES (1, 'Free'), (2, 'Team') ON CONFLICT DO NOTHING",
  );
  await catalog.end();

  const app = await NestFactory.create(AppModule.register(exampleRouterOptions(url)), nestOptions);
  const router = app.get<TenantRouter>(TENANT_ROUTER);
  await router.migrate({ databases: ["default"] });
  const known = await router.tenants.list();
  for (const tenant of ["acme", "globex"]) {
    if (!known.includes(tenant)) await router.tenants.create(tenant);
  }
  await router.migrate();
  return app;
}

if (require.main === module) {
  const server = process.env.PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  createApp(server, "nest_example_")
    .then(async (app) => {
      app.enableShutdownHooks();
      await app.listen(Number(process.env.PORT ?? 3000));
      console.log(`Listening on ${await app.getUrl()}: curl -H "x-tenant-id: acme" .../notes`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
