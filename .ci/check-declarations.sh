#!/usr/bin/env bash
# Builds the published declarations and type-checks a small app against them with
# skipLibCheck: false, under whatever typeorm node_modules holds (.ci/run runs it with 1.x
# and, in its TypeORM 0.3 job, with 0.3.31): the .d.ts files must hold under both lines.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.tmp/declarations
rm -rf "$out"
mkdir -p "$out/app"
npx tsc -p tsconfig.build.json --outDir "$out/dist"
cat > "$out/app/app.ts" <<'TS'
import "reflect-metadata";
import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { TenantRouter, databasePerTenant, schemaPerTenant, withTenant } from "typeorm-router";
import { External } from "typeorm-router/decorators";
import { createTestDatabases, emptyDatabase, snapshotSchema } from "typeorm-router/testing";

@External()
@Entity()
export class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}

export async function main(): Promise<void> {
  const router = await TenantRouter.create({
    entities: [Note],
    databases: { default: { type: "mariadb", url: "mysql://root@127.0.0.1:3306/app" } },
    tenants: {
      list: ["acme"],
      strategy: databasePerTenant((tenant) => ({ type: "mariadb", url: `mysql://root@127.0.0.1:3306/t_${tenant}` })),
    },
  });
  await withTenant("acme", () => router.getRepository(Note).save({ body: "x" }));
  const schemas = schemaPerTenant({ base: { type: "postgres", url: "postgres://localhost/app" } });
  const test = await createTestDatabases(router, { tenants: ["acme"] });
  const empty = await emptyDatabase({ type: "postgres", url: "postgres://localhost/app" });
  await snapshotSchema(empty.dataSource);
  void schemas;
  await test.teardown();
}
TS
cat > "$out/app/tsconfig.json" <<JSON
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "commonjs",
    "moduleResolution": "node",
    "lib": ["ES2022"],
    "strict": true,
    "skipLibCheck": false,
    "noEmit": true,
    "types": ["node", "jest"],
    "experimentalDecorators": true,
    "emitDecoratorMetadata": true,
    "esModuleInterop": true,
    "baseUrl": ".",
    "paths": {
      "typeorm-router": ["../dist/lib/index.d.ts"],
      "typeorm-router/decorators": ["../dist/decorators/index.d.ts"],
      "typeorm-router/testing": ["../dist/lib/testing/index.d.ts"]
    }
  },
  "files": ["app.ts"]
}
JSON
npx tsc -p "$out/app/tsconfig.json"
echo "declarations: an app type-checks them with skipLibCheck: false (typeorm $(node -p 'JSON.parse(require("fs").readFileSync("node_modules/typeorm/package.json", "utf8")).version'))"
