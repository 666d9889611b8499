import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { messageOf } from "../../errors";
import { writeLine } from "../cli-io";
import { CliUsageError } from "../cli-usage-error";
import type { CommandContext } from "../command-context";
import { ExitCode } from "../exit-code";
import { writeJson } from "../json-document";
import { taggedLine } from "../text-format";

/** The arguments and flags of `typeorm-router generate <group> <name>`. */
export interface GenerateFlags {
  readonly group: string;
  readonly name: string;
  /** Where to write the file, resolved from the working directory. Default `migrations/<group>`. */
  readonly dir?: string;
}

/**
 * `typeorm-router generate <group> <name>`: writes `<dir>/<timestamp>-<Name>.ts`, the
 * migration that brings `group` from its migrations to its entities (see
 * `router.generateMigration`). Writes nothing, and says so, when nothing differs.
 */
export async function generateCommand(
  context: CommandContext,
  flags: GenerateFlags,
): Promise<ExitCode> {
  const { router, io, json } = context;
  const migration = await router.generateMigration(flags.group, flags.name);
  if (!migration) {
    if (json) {
      writeJson(io.stdout, context.command, {
        ok: true,
        group: flags.group,
        file: null,
        className: null,
        upQueries: [],
        downQueries: [],
      });
    } else {
      writeLine(
        io.stdout,
        `No difference: the entities placed in group "${flags.group}" match its migrations. ` +
          `Nothing was written.`,
      );
    }
    return ExitCode.Success;
  }
  const folder = path.resolve(io.cwd, flags.dir ?? path.join("migrations", flags.group));
  const file = path.join(folder, migration.fileName);
  try {
    await mkdir(folder, { recursive: true });
    // "wx": never overwrite an existing migration.
    await writeFile(file, migration.source, { flag: "wx" });
  } catch (error) {
    throw CliUsageError.badFlags(
      `could not write the migration to ${file}: ${messageOf(error)}`,
      "Pass a writable folder with --dir; nothing was written.",
    );
  }
  if (json) {
    writeJson(io.stdout, context.command, {
      ok: true,
      group: migration.group,
      file,
      className: migration.className,
      upQueries: migration.upQueries.map((q) => q.query),
      downQueries: migration.downQueries.map((q) => q.query),
    });
  } else {
    writeLine(
      io.stdout,
      taggedLine(
        "wrote",
        path.relative(io.cwd, file) || file,
        `${migration.className}: ${migration.upQueries.length} statement(s) up, ` +
          `${migration.downQueries.length} down`,
      ),
    );
  }
  return ExitCode.Success;
}
