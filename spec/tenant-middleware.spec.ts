import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Koa from "koa";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  External,
  InvalidTenantIdError,
  NoTenantContextError,
  TenantRouter,
  currentTenant,
  tenantMiddleware,
  withTenant,
} from "./setup/public-api";
import { CLEANUP_TIMEOUT_MS } from "./setup/cleanup";
import { sqliteFixture, type DriverFixture } from "./setup/drivers";

@External()
@Entity()
class Visit {
  @PrimaryGeneratedColumn()
  id!: number;

  /** The tenant the request handler saw when it saved the row. */
  @Column({ type: "varchar" })
  tenant!: string;

  /** Unique per request, so that each test finds its own rows. */
  @Column({ type: "varchar" })
  marker!: string;
}

const TENANTS = ["acme", "globex"] as const;
const TENANT_HEADER = "x-tenant";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the handler reports about the context it ran in. */
interface Seen {
  readonly atStart: string | null;
  readonly afterAwait: string | null;
  readonly afterTimer: string | null;
  readonly saved: boolean;
}

/** One running app: its base URL, the errors its error handler saw, the markers it handled. */
interface RunningApp {
  readonly url: string;
  readonly errors: unknown[];
  readonly handled: string[];
  close(): Promise<void>;
}

let fixture: DriverFixture;
let router: TenantRouter;

/**
 * The request handler both apps share: it reads the tenant at the start, after an await and
 * after a timer, then (when the request carries a marker) saves a row through the router.
 */
async function handle(marker: unknown, handled: string[]): Promise<Seen> {
  const atStart = currentTenant() ?? null;
  await Promise.resolve();
  const afterAwait = currentTenant() ?? null;
  await sleep(3);
  const afterTimer = currentTenant() ?? null;
  if (typeof marker !== "string") return { atStart, afterAwait, afterTimer, saved: false };
  handled.push(marker);
  await router.getRepository(Visit).save({ tenant: afterTimer ?? "(none)", marker });
  return { atStart, afterAwait, afterTimer, saved: true };
}

function isTenantError(error: unknown): error is NoTenantContextError | InvalidTenantIdError {
  return error instanceof NoTenantContextError || error instanceof InvalidTenantIdError;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) =>
    server.close((error) => (error ? reject(error) : resolve())),
  );
}

async function startExpress(): Promise<RunningApp> {
  const errors: unknown[] = [];
  const handled: string[] = [];
  const resolve = (request: express.Request) => request.get(TENANT_HEADER);
  const routes = express.Router();
  // The body parser runs after the tenant middleware: the tenant must survive it.
  routes.use(express.json());
  routes.post("/visits", async (request, response, next) => {
    try {
      response.json(await handle((request.body as { marker?: unknown }).marker, handled));
    } catch (error) {
      next(error);
    }
  });
  const app = express();
  app.use("/required", tenantMiddleware<express.Request>({ resolve }), routes);
  app.use("/optional", tenantMiddleware<express.Request>({ resolve, optional: true }), routes);
  app.use(
    (
      error: unknown,
      _request: express.Request,
      response: express.Response,
      next: express.NextFunction,
    ) => {
      errors.push(error);
      if (error instanceof NoTenantContextError || error instanceof InvalidTenantIdError) {
        response.status(400).json({ code: error.code, name: error.name });
        return;
      }
      next(error);
    },
  );
  const server = http.createServer(app);
  const url = await listen(server);
  return { url, errors, handled, close: () => closeServer(server) };
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

async function startKoa(): Promise<RunningApp> {
  const errors: unknown[] = [];
  const handled: string[] = [];
  const resolve = (context: Koa.Context) => context.get(TENANT_HEADER);
  const required = tenantMiddleware<Koa.Context>({ resolve });
  const optional = tenantMiddleware<Koa.Context>({ resolve, optional: true });
  const app = new Koa();
  app.use(async (context, next) => {
    try {
      await next();
    } catch (error) {
      errors.push(error);
      if (!isTenantError(error)) throw error;
      context.status = 400;
      context.body = { code: error.code, name: error.name };
    }
  });
  app.use((context, next) =>
    context.path.startsWith("/optional/") ? optional(context, next) : required(context, next),
  );
  app.use(async (context) => {
    if (context.method !== "POST" || !/^\/(required|optional)\/visits$/.test(context.path)) {
      context.status = 404;
      return;
    }
    // Reading the request stream happens after the tenant middleware, like a body parser.
    const body = await readJson(context.req);
    context.body = await handle(body.marker, handled);
  });
  app.silent = true;
  const server = http.createServer(app.callback());
  const url = await listen(server);
  return { url, errors, handled, close: () => closeServer(server) };
}

const FRAMEWORKS = [
  { name: "express@4", start: startExpress },
  { name: "koa", start: startKoa },
] as const;

/** The rows of tenant `tenant`'s database whose marker starts with `prefix`. */
async function visitsOf(
  tenant: string,
  prefix: string,
): Promise<{ tenant: string; marker: string }[]> {
  const options = fixture.optionsFor(`tenant_${tenant}`);
  if (!(await fixture.tables(options)).includes("visit")) return [];
  const rows = await fixture.rows<{ tenant: string; marker: string }>(
    options,
    "SELECT tenant, marker FROM visit ORDER BY marker",
  );
  return rows.filter((row) => row.marker.startsWith(prefix));
}

beforeAll(async () => {
  fixture = await sqliteFixture();
  router = await TenantRouter.create({
    entities: [Visit],
    databases: { default: fixture.optionsFor("default") },
    tenants: {
      list: [...TENANTS],
      options: (tenant) => ({ ...fixture.optionsFor(`tenant_${tenant}`), synchronize: true }),
    },
  });
});

afterAll(async () => {
  await router?.close();
  await fixture?.cleanup();
}, CLEANUP_TIMEOUT_MS);

for (const framework of FRAMEWORKS) {
  describe(`tenantMiddleware in a real ${framework.name} app`, () => {
    let app: RunningApp;
    const prefix = `${framework.name}:`;

    beforeAll(async () => {
      app = await framework.start();
    });

    afterAll(async () => {
      await app?.close();
    });

    const post = (path: string, options: { tenant?: string; marker?: string } = {}) =>
      fetch(`${app.url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(options.tenant === undefined ? {} : { [TENANT_HEADER]: options.tenant }),
        },
        body: JSON.stringify(options.marker === undefined ? {} : { marker: options.marker }),
      });

    it("runs the request in the tenant from the header and saves to that tenant's database only", async () => {
      for (const tenant of TENANTS) {
        const response = await post("/required/visits", {
          tenant,
          marker: `${prefix}header:${tenant}`,
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({
          atStart: tenant,
          afterAwait: tenant,
          afterTimer: tenant,
          saved: true,
        });
      }
      expect(await visitsOf("acme", `${prefix}header:`)).toEqual([
        { tenant: "acme", marker: `${prefix}header:acme` },
      ]);
      expect(await visitsOf("globex", `${prefix}header:`)).toEqual([
        { tenant: "globex", marker: `${prefix}header:globex` },
      ]);
      expect(await fixture.tables(fixture.optionsFor("default"))).toEqual([]);
    });

    it("keeps concurrent requests for different tenants apart", async () => {
      const requests = Array.from({ length: 40 }, (_, index) => ({
        tenant: TENANTS[index % 2],
        marker: `${prefix}concurrent:${String(index).padStart(2, "0")}`,
      }));
      // Each client call runs inside the *other* tenant: the server must follow the header,
      // never the caller's context.
      const answers = await Promise.all(
        requests.map(({ tenant, marker }) =>
          withTenant(tenant === "acme" ? "globex" : "acme", async () => {
            const response = await post("/required/visits", { tenant, marker });
            return { status: response.status, seen: (await response.json()) as Seen };
          }),
        ),
      );
      answers.forEach(({ status, seen }, index) => {
        expect(status).toBe(200);
        expect(seen.afterTimer).toBe(requests[index].tenant);
      });
      for (const tenant of TENANTS) {
        const expected = requests
          .filter((request) => request.tenant === tenant)
          .map((request) => ({ tenant, marker: request.marker }));
        expect(await visitsOf(tenant, `${prefix}concurrent:`)).toEqual(expected);
      }
    });

    it("fails a request without a tenant with NoTenantContextError before the handler runs", async () => {
      const errorsBefore = app.errors.length;
      const marker = `${prefix}missing`;
      const response = await post("/required/visits", { marker });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        code: "NO_TENANT_CONTEXT",
        name: "NoTenantContextError",
      });
      expect(app.errors.slice(errorsBefore)).toEqual([expect.any(NoTenantContextError)]);
      expect(app.handled).not.toContain(marker);
      for (const tenant of TENANTS) expect(await visitsOf(tenant, marker)).toEqual([]);
      expect(await fixture.tables(fixture.optionsFor("default"))).toEqual([]);
    });

    it("fails a request with an invalid tenant id with InvalidTenantIdError and opens nothing", async () => {
      const keysBefore = router.poolStats().keys;
      for (const hostile of ["../acme", "ACME", "acme;drop schema public", "a".repeat(64)]) {
        const errorsBefore = app.errors.length;
        const marker = `${prefix}invalid:${hostile}`;
        const response = await post("/required/visits", { tenant: hostile, marker });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          code: "INVALID_TENANT_ID",
          name: "InvalidTenantIdError",
        });
        expect(app.errors.slice(errorsBefore)).toEqual([expect.any(InvalidTenantIdError)]);
        expect(app.handled).not.toContain(marker);
      }
      expect(router.poolStats().keys).toEqual(keysBefore);
    });

    it("with optional: true, lets a request without a tenant through with currentTenant() undefined", async () => {
      const response = await post("/optional/visits");
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        atStart: null,
        afterAwait: null,
        afterTimer: null,
        saved: false,
      });
    });

    it("with optional: true, still rejects an invalid tenant id instead of ignoring it", async () => {
      const errorsBefore = app.errors.length;
      const marker = `${prefix}optional:invalid`;
      const response = await post("/optional/visits", { tenant: "../acme", marker });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe("INVALID_TENANT_ID");
      expect(app.errors.slice(errorsBefore)).toEqual([expect.any(InvalidTenantIdError)]);
      expect(app.handled).not.toContain(marker);
    });

    it("with optional: true, still routes a request that names a tenant", async () => {
      const marker = `${prefix}optional:globex`;
      const response = await post("/optional/visits", { tenant: "globex", marker });
      expect(response.status).toBe(200);
      expect(((await response.json()) as Seen).afterTimer).toBe("globex");
      expect(await visitsOf("globex", marker)).toEqual([{ tenant: "globex", marker }]);
      expect(await visitsOf("acme", marker)).toEqual([]);
    });

    it("with optional: true and no tenant, still refuses an @External write instead of using default", async () => {
      const errorsBefore = app.errors.length;
      const marker = `${prefix}optional:none`;
      const response = await post("/optional/visits", { marker });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe("NO_TENANT_CONTEXT");
      expect(app.errors.slice(errorsBefore)).toEqual([expect.any(NoTenantContextError)]);
      expect(app.handled).toContain(marker);
      for (const tenant of TENANTS) expect(await visitsOf(tenant, marker)).toEqual([]);
      expect(await fixture.tables(fixture.optionsFor("default"))).toEqual([]);
    });
  });
}
