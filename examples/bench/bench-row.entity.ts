import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External } from "typeorm-router";

/**
 * The row every benchmark operation reads or writes. It is `@External`, so the router sends
 * it to the database of the tenant in context; the plain DataSource uses the same class as is.
 * Column types are explicit so that it maps the same way on SQLite and PostgreSQL.
 */
@External()
@Entity("bench_row")
export class BenchRow {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar", length: 64 })
  label!: string;

  @Column({ type: "integer" })
  value!: number;
}
