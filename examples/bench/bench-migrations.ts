import type { MigrationInterface, QueryRunner } from "typeorm";

// Raw SQL with unqualified names, as hand-written migrations often are: the router runs it
// with the tenant's search_path (SET LOCAL), so it lands in the tenant's schema.

class CreateBenchNotes1700000000101 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE bench_note (id serial PRIMARY KEY, body text NOT NULL)");
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE bench_note");
  }
}

class AddBenchNoteCreatedAt1700000000102 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "ALTER TABLE bench_note ADD COLUMN created_at timestamptz NOT NULL DEFAULT now()",
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE bench_note DROP COLUMN created_at");
  }
}

class IndexBenchNoteCreatedAt1700000000103 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE INDEX bench_note_created_at_idx ON bench_note (created_at)");
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX bench_note_created_at_idx");
  }
}

/** The three tenant migrations the migrate benchmark applies: a table, a column, an index. */
export const BENCH_MIGRATIONS = [
  CreateBenchNotes1700000000101,
  AddBenchNoteCreatedAt1700000000102,
  IndexBenchNoteCreatedAt1700000000103,
];
