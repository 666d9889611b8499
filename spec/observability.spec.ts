import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { format, promisify } from "node:util";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import createDebug from "debug";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { WarningLimiter } from "../lib/observability/warning-limiter";
import {
  ConfigurationError,
  External,
  TenantRouter,
  withTenant,
  type LogRecord,
  type TenantRouterOptions,
} from "./setup/public-api";
import { inMemoryTenants } from "./setup/in-memory-tenants";
import { createTableMigration, sqlMigration } from "./setup/migrations";

@External()
@Entity()
class ObservedNote {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}

const CreateObservedNotes = createTableMigration(
  "CreateObservedNotes1700000000901",
  "observed_note",
  [{ name: "body", type: "varchar" }],
);

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), "typeorm-router-observability-"));
});
afterAll(() => rm(folder, { recursive: true, force: true }));

function options(name: string, extra: Partial<TenantRouterOptions> = {}): TenantRouterOptions {
  const file = (label: string) => path.join(folder, `${name}-${label}.sqlite`);
  return {
    entities: [ObservedNote],
    databases: { default: { type: "better-sqlite3", database: file("default") } },
    tenants: {
      ...inMemoryTenants(["acme", "globex"]),
      options: (tenant) => ({ type: "better-sqlite3", database: file(tenant) }),
    },
    migrations: { tenant: [CreateObservedNotes] },
    ...extra,
  };
}

describe("warnings are rate-limited per code and tenant", () => {
  it("writes one line per tenant per interval for a 10-second outage, then the count it dropped", () => {
    let now = 0;
    const limiter = new WarningLimiter(60_000, () => now);
    const written: string[] = [];
    // 551 warnings from tenant acme's server and 30 from globex's within 10 seconds.
    for (let index = 0; index < 551; index++) {
      now = Math.floor((index * 10_000) / 551);
      if (limiter.take("TYPEORM_ROUTER_POOL_ERROR|acme").write) written.push("acme");
      if (index < 30 && limiter.take("TYPEORM_ROUTER_POOL_ERROR|globex").write) {
        written.push("globex");
      }
    }
    expect(written).toEqual(["acme", "globex"]);
    now = 60_000;
    expect(limiter.take("TYPEORM_ROUTER_POOL_ERROR|acme")).toEqual({
      write: true,
      suppressed: 550,
    });
    expect(limiter.take("TYPEORM_ROUTER_POOL_ERROR|acme")).toEqual({ write: false, suppressed: 0 });
  });

  it("sends warnings, with the count dropped, to the logger option", async () => {
    const records: { level: string; message: string; record: LogRecord }[] = [];
    const logger = {
      info: (message: string, record: LogRecord) =>
        records.push({ level: "info", message, record }),
      warn: (message: string, record: LogRecord) =>
        records.push({ level: "warn", message, record }),
    };
    const router = await TenantRouter.create(
      options("logger", { logger, warningIntervalMs: 60_000 }),
    );
    try {
      await router.migrate();
      await router.tenants.create("initech");
      const created = records.find((entry) => entry.message === 'created tenant "initech"');
      expect(created?.level).toBe("info");
      expect(created?.record).toMatchObject({
        channel: "tenant",
        tenant: "initech",
        operation: "create",
      });
      expect(typeof created?.record.durationMs).toBe("number");
      // A progress callback that throws on every database: one warning, not one per database.
      await router.migrate({
        onProgress: () => {
          throw new Error("broken progress bar");
        },
      });
      const warnings = records.filter((entry) => entry.level === "warn");
      expect(warnings).toHaveLength(1);
      expect(warnings[0].record).toMatchObject({
        channel: "migrate",
        code: "TYPEORM_ROUTER_PROGRESS_FAILED",
      });
    } finally {
      await router.close();
    }
  });

  it("refuses a logger that is not one, naming the option", async () => {
    await expect(
      TenantRouter.create(options("bad", { logger: { warn: "yes" } as never })),
    ).rejects.toThrow(ConfigurationError);
    await expect(
      TenantRouter.create(options("bad2", { logger: "debug" as never })),
    ).rejects.toThrow(/logger/);
    await expect(TenantRouter.create(options("bad3", { warningIntervalMs: -1 }))).rejects.toThrow(
      /warningIntervalMs/,
    );
  });
});

describe("route debug lines", () => {
  it("logs one line per query builder statement, whether its tenant is open or not", async () => {
    const routes: string[] = [];
    const logger = {
      debug: (message: string, record: LogRecord) => {
        if (record.channel === "route") routes.push(message);
      },
    };
    const router = await TenantRouter.create(
      options("route-lines", { logger, pool: { maxOpenTenants: 1 } }),
    );
    try {
      await router.migrate();
      const notes = router.getRepository(ObservedNote);
      const count = () => notes.createQueryBuilder("note").getCount();
      // globex evicts acme (one open tenant at most): each count finds its tenant closed.
      for (const tenant of ["acme", "globex", "acme", "acme"]) {
        routes.length = 0;
        await withTenant(tenant, count);
        expect(routes).toEqual([
          `a query builder read of "ObservedNote" → the database of tenant "${tenant}"`,
        ]);
      }
    } finally {
      await router.close();
    }
  });
});

describe("DEBUG=typeorm-router:* (the debug namespaces)", () => {
  afterEach(() => createDebug.disable());

  it("the debug package prints a typeorm-router namespace when DEBUG names it", async () => {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ["-e", 'require("debug")("typeorm-router:migrate")("migrated %s", "tenant:acme")'],
      { cwd: path.join(__dirname, ".."), env: { ...process.env, DEBUG: "typeorm-router:*" } },
    );
    expect(stderr).toContain("typeorm-router:migrate migrated tenant:acme");
  });

  it("shows migrations, lock waits and tenants being created, with their fields", async () => {
    const lines: string[] = [];
    const log = createDebug.log;
    // What DEBUG=typeorm-router:* does when the process starts.
    createDebug.enable("typeorm-router:*");
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args));
    const router = await TenantRouter.create(options("debug"));
    try {
      await router.migrate();
      await router.tenants.create("initech");
    } finally {
      createDebug.log = log;
      await router.close();
    }
    const text = lines.join("\n");
    expect(text).toMatch(
      /typeorm-router:migrate migrated the database of tenant "acme" tenant=acme .*durationMs=\d+/,
    );
    expect(text).toMatch(/typeorm-router:migrate.*migration lock taken.*tenant=globex/);
    expect(text).toMatch(/typeorm-router:tenant.*created tenant "initech".*tenant=initech/);
  });
});

describe("OpenTelemetry spans (@opentelemetry/sdk-trace-base, in-memory exporter)", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it("has a span per database migrated and per lock wait, and for a tenant created, with the tenant", async () => {
    const router = await TenantRouter.create(options("otel"));
    try {
      await router.migrate();
      await router.tenants.create("initech");
    } finally {
      await router.close();
    }
    const spans = exporter.getFinishedSpans();
    const tenantsOf = (name: string) =>
      spans
        .filter((span) => span.name === name)
        .map((span) => span.attributes["typeorm_router.tenant"])
        .sort();
    expect(tenantsOf("typeorm_router.migrate")).toEqual(["acme", "globex", "initech"]);
    expect(tenantsOf("typeorm_router.migrate.lock")).toEqual(
      expect.arrayContaining(["acme", "globex", "initech"]),
    );
    expect(tenantsOf("typeorm_router.tenant.create")).toEqual(["initech"]);
    const create = spans.find((span) => span.name === "typeorm_router.tenant.create")!;
    const migrateInitech = spans.find(
      (span) =>
        span.name === "typeorm_router.migrate" &&
        span.attributes["typeorm_router.tenant"] === "initech",
    )!;
    // The tenant's migration runs inside its creation.
    expect(migrateInitech.parentSpanContext?.spanId).toBe(create.spanContext().spanId);
  });

  it("sets typeorm_router.tenant on the active span of the code that enters a tenant", async () => {
    const router = await TenantRouter.create(options("active"));
    try {
      await router.migrate();
      const tracer = trace.getTracer("spec");
      await tracer.startActiveSpan("GET /notes", async (request) => {
        await withTenant("globex", () => router.getRepository(ObservedNote).find());
        request.end();
      });
    } finally {
      await router.close();
    }
    const request = exporter.getFinishedSpans().find((span) => span.name === "GET /notes")!;
    expect(request.attributes["typeorm_router.tenant"]).toBe("globex");
  });

  it("records a failed migration on its span", async () => {
    const Failing = sqlMigration("Broken1700000000902", "CREATE TABLE (", "SELECT 1");
    const router = await TenantRouter.create(
      options("failing", { migrations: { tenant: [Failing] } }),
    );
    try {
      const report = await router.migrate();
      expect(report.results.some((result) => result.outcome === "failed")).toBe(true);
    } finally {
      await router.close();
    }
    const failed = exporter
      .getFinishedSpans()
      .filter((span) => span.name === "typeorm_router.migrate" && span.status.code === 2);
    expect(failed.length).toBeGreaterThan(0);
  });
});
