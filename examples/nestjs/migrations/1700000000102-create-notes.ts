import { Table, type MigrationInterface, type QueryRunner } from "typeorm";

/** The `tenant` group: runs in every tenant database, never in `default`. */
export class CreateNotes1700000000102 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "note",
        columns: [
          {
            name: "id",
            type: "integer",
            isPrimary: true,
            isGenerated: true,
            generationStrategy: "increment",
          },
          { name: "body", type: "varchar" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("note");
  }
}
