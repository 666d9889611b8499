import { Table, type MigrationInterface, type QueryRunner } from "typeorm";

/** The `default` group: the project table that registers tenants. */
export class CreateProjects1700000000000 implements MigrationInterface {
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: "project",
        columns: [
          {
            name: "id",
            type: "integer",
            isPrimary: true,
            isGenerated: true,
            generationStrategy: "increment",
          },
          { name: "slug", type: "varchar", isUnique: true },
          { name: "name", type: "varchar" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable("project");
  }
}
