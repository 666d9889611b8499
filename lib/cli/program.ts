import { Command, Option } from "commander";
import type { CliIo } from "./cli-io";
import type { GenerateFlags } from "./commands/generate-command";
import type { MigrateFlags } from "./commands/migrate-command";
import type { RevertFlags } from "./commands/revert-command";
import type { StatusFlags } from "./commands/status-command";
import type { VerifyFlags } from "./commands/verify-command";
import { collect, positiveInteger } from "./option-parsers";
import { packageVersion } from "./package-version";

/** The flags every command accepts. */
export interface GlobalFlags {
  readonly config?: string;
  readonly json?: boolean;
}

/** A parsed command line: which command, with which flags. */
export type Invocation =
  | { readonly command: "migrate"; readonly flags: MigrateFlags }
  | { readonly command: "status"; readonly flags: StatusFlags }
  | { readonly command: "verify"; readonly flags: VerifyFlags }
  | { readonly command: "revert"; readonly flags: RevertFlags }
  | { readonly command: "generate"; readonly flags: GenerateFlags }
  | { readonly command: "tenants list" }
  | { readonly command: "tenants create"; readonly tenant: string }
  | { readonly command: "tenants drop"; readonly tenant: string; readonly confirm?: string };

/** Runs a parsed command line. */
export type InvocationHandler = (globals: GlobalFlags, invocation: Invocation) => Promise<void>;

/**
 * The commander definition of `typeorm-router`: its commands and flags. Parsing never exits
 * the process: errors are thrown as `CommanderError` (see `exitOverride`).
 */
export function buildProgram(io: CliIo, handle: InvocationHandler): Command {
  const program = new Command("typeorm-router")
    .description(
      "Migrate, inspect and provision every database a TenantRouter routes to: default, the " +
        "other aliases and every tenant.",
    )
    .option("--config <path>", "module exporting the TenantRouter or its options (required)")
    .option("--json", "write one JSON document on stdout instead of text")
    .version(packageVersion(), "-V, --version", "print the version of typeorm-router")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(run typeorm-router --help for usage)");

  const run = (command: Command, invocation: Invocation) =>
    handle(command.optsWithGlobals<GlobalFlags>(), invocation);
  const withFilter = (command: Command) =>
    command
      .option("--database <alias>", "only this alias (repeatable)", collect, [])
      .option("--tenant <id>", "only this tenant (repeatable)", collect, [])
      .option("--concurrency <n>", "databases worked on at once", positiveInteger("--concurrency"));

  withFilter(program.command("migrate").description("apply pending migrations everywhere"))
    .option("--dry-run", "record the SQL each database would run, then roll it back")
    .option("--fake", "record pending migrations as applied without running them")
    .addOption(
      new Option("--transaction <mode>", "one transaction per migration or per database").choices([
        "each",
        "all",
      ]),
    )
    .option("--fail-fast", "start no new database after the first failure")
    .option("--group <name>", "only this migration group (repeatable)", collect, [])
    .addOption(
      new Option(
        "--retry",
        "run an interrupted transaction = false migration again (check the database first)",
      ).conflicts("markApplied"),
    )
    .option(
      "--mark-applied",
      "record an interrupted transaction = false migration as applied without running it",
    )
    .action((flags: MigrateFlags, command: Command) => run(command, { command: "migrate", flags }));

  withFilter(program.command("status").description("applied and pending migrations per database"))
    .option("--check", "exit 1 when any migration is pending")
    .option("--group <name>", "only this migration group (repeatable)", collect, [])
    .action((flags: StatusFlags, command: Command) => run(command, { command: "status", flags }));

  withFilter(
    program.command("verify").description("compare each database with its entities"),
  ).action((flags: VerifyFlags, command: Command) => run(command, { command: "verify", flags }));

  program
    .command("revert")
    .description("revert migrations on one database")
    .option("--database <alias>", "the alias to revert", collect, [])
    .option("--tenant <id>", "the tenant to revert", collect, [])
    .option("--steps <n>", "how many migrations to revert (default 1)", positiveInteger("--steps"))
    .option("--to <name>", "revert every migration applied after this one")
    .option("--group <name>", "only migrations of this group (repeatable)", collect, [])
    .option("--fake", "forget the migrations as applied without running their down()")
    .action((flags: RevertFlags, command: Command) => run(command, { command: "revert", flags }));

  program
    .command("generate")
    .description("write the migration a group's entities need, diffed on a scratch database")
    .argument("<group>", '"tenant" or an alias')
    .argument("<name>", "the migration's class name, e.g. AddNotes")
    .option("--dir <folder>", "where to write it (default migrations/<group>)")
    .action((group: string, name: string, flags: { dir?: string }, command: Command) =>
      run(command, { command: "generate", flags: { group, name, dir: flags.dir } }),
    );

  const tenants = program.command("tenants").description("list, create and drop tenants");
  tenants
    .command("list")
    .description("every known tenant")
    .action((_flags: object, command: Command) => run(command, { command: "tenants list" }));
  tenants
    .command("create")
    .description("create a tenant's database, migrate it and register it")
    .argument("<id>", "the tenant id")
    .action((tenant: string, _flags: object, command: Command) =>
      run(command, { command: "tenants create", tenant }),
    );
  tenants
    .command("drop")
    .description("drop a tenant's database and unregister it")
    .argument("<id>", "the tenant id")
    .option("--confirm <id>", "the tenant id again: dropping deletes every row")
    .action((tenant: string, flags: { confirm?: string }, command: Command) =>
      run(command, { command: "tenants drop", tenant, confirm: flags.confirm }),
    );
  return program;
}
