import { PG_URL, postgresAvailable } from "./drivers";

/**
 * Checks once whether PostgreSQL answers, for every worker. With REQUIRE_PG=1 a missing
 * server fails the whole run instead of skipping the PostgreSQL suites.
 */
export default async function globalSetup(): Promise<void> {
  const available = await postgresAvailable();
  if (!available && process.env.REQUIRE_PG === "1") {
    throw new Error(
      `REQUIRE_PG=1 but PostgreSQL does not answer at ${PG_URL}. Start it or unset REQUIRE_PG.`,
    );
  }
  if (!available)
    console.warn(`\nPostgreSQL does not answer at ${PG_URL}: its suites are skipped.`);
  process.env.TYPEORM_ROUTER_PG_AVAILABLE = available ? "1" : "0";
}
