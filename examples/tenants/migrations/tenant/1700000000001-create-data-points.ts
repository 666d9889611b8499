import { Table, type MigrationInterface, type QueryRunner } from "typeorm";

/** The `tenant` group: runs in every tenant database, never in `default`. */
export class CreateDataPoints1700000000001 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "data_point",
        columns: [
          {
            name: "id",
            type: "integer",
            isPrimary: true,
            isGenerated: true,
            generationStrategy: "increment",
          },
          { name: "value", type: "double precision" },
          { name: "label", type: "varchar" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("data_point");
  }
}
