import {
  DRIVERS,
  EXTRA_SERVERS,
  PG_URL,
  availableServersEnv,
  postgresAvailable,
  serverAnswers,
} from "./drivers";
import { MYSQL_URL, mysqlAvailable } from "./mysql";

/**
 * Checks once whether PostgreSQL answers, for every worker. With REQUIRE_PG=1 a missing
 * server fails the whole run instead of skipping the PostgreSQL suites. Also probes the
 * extra servers of `.ci/pg-servers.sh` (EXTRA_SERVERS), for `describeServer`.
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
  // MariaDB only when TEST_DRIVERS names it; then a missing server fails with REQUIRE_PG=1.
  if (DRIVERS.some((driver) => driver.name === "mariadb")) {
    const mysql = await mysqlAvailable();
    if (!mysql && process.env.REQUIRE_PG === "1") {
      throw new Error(
        `REQUIRE_PG=1 and TEST_DRIVERS names mariadb, but MariaDB does not answer at ${MYSQL_URL}. Start it (.ci/run does) or drop it from TEST_DRIVERS.`,
      );
    }
    if (!mysql) console.warn(`\nMariaDB does not answer at ${MYSQL_URL}: its suites are skipped.`);
    process.env.TYPEORM_ROUTER_MYSQL_AVAILABLE = mysql ? "1" : "0";
  }
  // The extra servers (.ci/pg-servers.sh) gate only their own suites: see describeServer.
  const answered = await Promise.all(EXTRA_SERVERS.map((server) => serverAnswers(server.url)));
  Object.assign(
    process.env,
    availableServersEnv(EXTRA_SERVERS.filter((_, i) => answered[i]).map((server) => server.url)),
  );
}
