import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  Controller,
  Get,
  Injectable,
  Module,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from "@nestjs/common";
import { APP_GUARD, NestFactory } from "@nestjs/core";
import request from "supertest";
import { ConfigurationError, TenantRouter, currentTenant } from "typeorm-router";
import {
  TENANT_ROUTER,
  TenantRouterModule,
  routingErrorStatus,
  tenantFromUser,
} from "typeorm-router/nestjs";
import { ClsAppModule } from "../examples/nestjs/cls-app.module";
import { createApp } from "../examples/nestjs/main";
import { exampleRouterOptions } from "../examples/nestjs/router-options";
import { PG_URL, databaseUrl } from "./setup/drivers";
import { queryAt, withClient } from "./setup/pg";

const describePg = process.env.TYPEORM_ROUTER_PG_AVAILABLE === "1" ? describe : describe.skip;

/** Databases of the example created under `prefix`, and a URL maker for them. */
function databasesOf(prefix: string) {
  return {
    url: (name: string) => databaseUrl(`${prefix}${name}`),
    async backends(): Promise<number> {
      const [row] = await queryAt<{ count: string }>(
        PG_URL,
        "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE $1",
        [`${prefix}%`],
      );
      return Number(row.count);
    },
    async drop(): Promise<void> {
      await withClient(PG_URL, async (client) => {
        const { rows } = await client.query<{ datname: string }>(
          "SELECT datname FROM pg_database WHERE datname LIKE $1",
          [`${prefix}%`],
        );
        for (const { datname } of rows) {
          await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
        }
      });
    },
  };
}

const uniquePrefix = () => `trn_${randomBytes(4).toString("hex")}_`;

describePg("typeorm-router/nestjs: examples/nestjs end to end (PostgreSQL)", () => {
  const prefix = uniquePrefix();
  const databases = databasesOf(prefix);
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp(PG_URL, prefix, { logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await databases.drop();
  });

  const notesIn = async (tenant: string) =>
    (await queryAt<{ body: string }>(databases.url(`tenant_${tenant}`), "SELECT body FROM note"))
      .map((row) => row.body)
      .sort();

  it("stores concurrent requests' rows in their own tenant database, with no leak", async () => {
    const tenants = ["acme", "globex"];
    const sent = Array.from({ length: 40 }, (_, index) => ({
      tenant: tenants[index % 2],
      body: `${tenants[index % 2]}-${index}`,
      // Interleave: later requests often finish first.
      delayMs: (index * 7) % 23,
    }));
    const responses = await Promise.all(
      sent.map(({ tenant, body, delayMs }) =>
        request(app.getHttpServer())
          .post(`/notes?delayMs=${delayMs}`)
          .set("x-tenant-id", tenant)
          .send({ body }),
      ),
    );
    for (const [index, response] of responses.entries()) {
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ body: sent[index].body, tenant: sent[index].tenant });
    }
    // Read back without the router: every row is in its own tenant's database.
    for (const tenant of tenants) {
      const stored = await notesIn(tenant);
      const expected = sent.filter((row) => row.tenant === tenant).map((row) => row.body);
      expect(stored).toEqual(expect.arrayContaining(expected));
      expect(stored.every((body) => body.startsWith(`${tenant}-`))).toBe(true);
    }
    // `default` holds the account directory and no notes table.
    const defaultTables = await queryAt<{ table_name: string }>(
      databases.url("default"),
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    expect(defaultTables.map((row) => row.table_name)).toEqual(["account", "migrations_default"]);
    const acme = await request(app.getHttpServer()).get("/notes").set("x-tenant-id", "acme");
    expect(acme.status).toBe(200);
    expect((acme.body as { body: string }[]).map((note) => note.body).sort()).toEqual(
      await notesIn("acme"),
    );
    expect(currentTenant()).toBeUndefined();
  });

  it("answers an invalid tenant id and a request without a tenant with 400", async () => {
    const invalid = await request(app.getHttpServer())
      .get("/notes")
      .set("x-tenant-id", "Robert'); DROP TABLE note; --");
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ statusCode: 400, code: "INVALID_TENANT_ID" });
    const twice = await request(app.getHttpServer())
      .get("/notes")
      // Node sends an array as the same header twice.
      .set("x-tenant-id", ["acme", "globex"] as unknown as string);
    expect(twice.status).toBe(400);
    expect(twice.body.code).toBe("INVALID_TENANT_ID");
    const missing = await request(app.getHttpServer()).get("/notes");
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ statusCode: 400, code: "NO_TENANT_CONTEXT" });
  });

  it("answers an unknown tenant with 404 and creates nothing for it", async () => {
    const response = await request(app.getHttpServer()).get("/notes").set("x-tenant-id", "initech");
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ statusCode: 404, code: "UNKNOWN_TENANT" });
    expect(response.body.message).toContain("initech");
    const created = await queryAt(PG_URL, "SELECT 1 FROM pg_database WHERE datname = $1", [
      `${prefix}tenant_initech`,
    ]);
    expect(created).toHaveLength(0);
  });

  it("answers a write to the read-only catalog with 403 and leaves it unchanged", async () => {
    const plans = await request(app.getHttpServer()).get("/plans");
    expect(plans.status).toBe(200);
    expect(plans.body).toEqual([
      { id: 1, name: "Free" },
      { id: 2, name: "Team" },
    ]);
    const write = await request(app.getHttpServer()).post("/plans").send({ id: 3, name: "Pro" });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ statusCode: 403, code: "READ_ONLY_DATABASE" });
    const rows = await queryAt(databases.url("catalog"), "SELECT id FROM plans ORDER BY id");
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("lets @TenantOptional() handlers run without a tenant", async () => {
    const health = await request(app.getHttpServer()).get("/health");
    expect(health.status).toBe(200);
    expect(health.body.ok).toBe(true);
  });

  it("resolves the tenant from the authenticated user (guards run first)", async () => {
    @Injectable()
    class HeaderAuthGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        const req = context.switchToHttp().getRequest();
        const [tenantId, name] = String(req.headers.authorization ?? "").split(":");
        req.user = { tenantId, name };
        return true;
      }
    }
    @Controller("me")
    class MeController {
      @Get()
      me() {
        return { tenant: currentTenant() };
      }
    }
    const router = app.get<TenantRouter>(TENANT_ROUTER);
    @Module({
      imports: [
        TenantRouterModule.forRoot({
          router, // the example's router, shared; this app must not close it
          closeOnShutdown: false,
          tenant: { resolve: tenantFromUser("tenantId") },
        }),
      ],
      controllers: [MeController],
      providers: [{ provide: APP_GUARD, useClass: HeaderAuthGuard }],
    })
    class UserTenantModule {}
    const userApp = await NestFactory.create(UserTenantModule, { logger: false });
    await userApp.init();
    try {
      const me = await request(userApp.getHttpServer())
        .get("/me")
        .set("authorization", "globex:ada");
      expect(me.body).toEqual({ tenant: "globex" });
      const anonymous = await request(userApp.getHttpServer()).get("/me");
      expect(anonymous.status).toBe(400);
    } finally {
      await userApp.close();
    }
    // closeOnShutdown: false left the shared router open.
    const still = await request(app.getHttpServer()).get("/notes").set("x-tenant-id", "globex");
    expect(still.status).toBe(200);
  });

  it("takes the tenant that nestjs-cls holds (ClsAppModule)", async () => {
    const clsApp = await NestFactory.create(
      ClsAppModule.register(exampleRouterOptions(databases.url)),
      { logger: false },
    );
    await clsApp.init();
    try {
      const saved = await request(clsApp.getHttpServer())
        .post("/notes")
        .set("x-tenant-id", "globex")
        .send({ body: "globex-from-cls" });
      expect(saved.status).toBe(201);
      expect(saved.body.tenant).toBe("globex");
      expect(await notesIn("globex")).toContain("globex-from-cls");
      expect(await notesIn("acme")).not.toContain("globex-from-cls");
      const missing = await request(clsApp.getHttpServer()).get("/notes");
      expect(missing.body.code).toBe("NO_TENANT_CONTEXT");
    } finally {
      await clsApp.close();
    }
  });

  it("maps every routing error code to a status, with overrides", () => {
    expect(routingErrorStatus("POOL_EXHAUSTED")).toBe(503);
    expect(routingErrorStatus("DATABASE_UNAVAILABLE")).toBe(503);
    expect(routingErrorStatus("UNKNOWN_TENANT", { UNKNOWN_TENANT: 403 })).toBe(403);
  });

  it("refuses invalid module options with a ConfigurationError naming the option", () => {
    expect(() =>
      TenantRouterModule.forRoot({
        router: exampleRouterOptions(databases.url),
        tenant: { resolve: "x-tenant-id" as never },
      }),
    ).toThrow(ConfigurationError);
    expect(() =>
      TenantRouterModule.forRoot({
        router: exampleRouterOptions(databases.url),
        statuses: { UNKNOWN_TENANT: 99 },
      }),
    ).toThrow(/statuses\.UNKNOWN_TENANT/);
  });
});

describePg("typeorm-router/nestjs: app.close() (PostgreSQL)", () => {
  const prefix = uniquePrefix();
  const databases = databasesOf(prefix);
  afterAll(() => databases.drop());

  it("closes every connection the router opened: 0 backends left in pg_stat_activity", async () => {
    const app = await createApp(PG_URL, prefix, { logger: false });
    await app.init();
    for (const tenant of ["acme", "globex"]) {
      const response = await request(app.getHttpServer())
        .post("/notes")
        .set("x-tenant-id", tenant)
        .send({ body: `${tenant}-1` });
      expect(response.status).toBe(201);
    }
    await request(app.getHttpServer()).get("/plans").expect(200);
    // default, catalog and two tenant databases hold connections now.
    expect(await databases.backends()).toBeGreaterThanOrEqual(4);
    await app.close();
    expect(await databases.backends()).toBe(0);
  });
});

describe("examples/nestjs in the README", () => {
  it.each([
    ["app.module.ts", "nestjs-module"],
    ["cls-app.module.ts", "nestjs-cls"],
  ])("shows the %s region %s as it is", (file, region) => {
    const source = readFileSync(path.join(__dirname, "../examples/nestjs", file), "utf8");
    const match = new RegExp(
      `// #region ${region}\\n([\\s\\S]*?)\\n\\s*// #endregion ${region}`,
    ).exec(source);
    expect(match).not.toBeNull();
    const lines = match![1].split("\n");
    const indent = Math.min(
      ...lines.filter((line) => line.trim()).map((line) => line.length - line.trimStart().length),
    );
    const snippet = lines.map((line) => line.slice(indent)).join("\n");
    expect(readFileSync(path.join(__dirname, "../README.md"), "utf8")).toContain(snippet);
  });
});
