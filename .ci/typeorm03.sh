#!/usr/bin/env bash
# The TypeORM 0.3 job: a copy of the project in .tmp/typeorm03 with typeorm 0.3.31 and the
# sqlite3 driver (node-sqlite3, `type: "sqlite"`, which TypeORM 1.x dropped) installed over
# its node_modules; then the type check (sources and an app using the published declarations
# with skipLibCheck: false) and the suites that exercise drivers and TypeORM APIs, on sqlite3
# and PostgreSQL. Expects node_modules installed (npm ci) and PostgreSQL up, as .ci/run does.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.tmp/typeorm03
rm -rf "$work"
mkdir -p "$work"
tar -c --exclude=./node_modules --exclude=./.tmp --exclude=./dist --exclude=./.git . | tar -x -C "$work"
# The 1.x install of the project, copied: only typeorm and sqlite3 change (sqlite3 is built
# from source against the system's node headers when no prebuilt binary can be fetched).
cp -a node_modules "$work/node_modules"
cd "$work"
npm i --no-save --no-audit --no-fund --loglevel=error typeorm@0.3.31 sqlite3@5
node -e 'const v = require("./node_modules/typeorm/package.json").version; if (!v.startsWith("0.3.")) throw new Error(`typeorm ${v} installed, 0.3 expected`); require("sqlite3"); console.log(`typeorm ${v}, sqlite3 loads`)'
npx tsc --noEmit -p tsconfig.json
bash .ci/check-declarations.sh
status=0
REQUIRE_PG=1 TEST_DRIVERS=sqlite3,postgres npx jest --json --outputFile=../typeorm03-jest.json \
  spec/routing.spec.ts spec/routed-repository.spec.ts spec/transactions.spec.ts \
  spec/migrations.spec.ts spec/migration-runs.spec.ts spec/migration-tester.spec.ts \
  spec/test-databases.spec.ts spec/test-mode.spec.ts spec/empty-database.spec.ts \
  spec/schema-snapshot.spec.ts spec/shared-metadata.spec.ts spec/schema-per-tenant.spec.ts \
  spec/custom-routers.spec.ts spec/tenant-storage.spec.ts spec/data-source-facade.spec.ts \
  spec/subscribers.spec.ts || status=$?
node -e '
  const r = require("../typeorm03-jest.json");
  console.log(`typeorm 0.3: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' || true
exit "$status"
