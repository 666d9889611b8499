import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External } from "typeorm-router";

// No module imports this file: the router finds it through the entities glob, at bootstrap.

/** A measurement; it lives in every tenant database and never in `default`. */
@External()
@Entity()
export class DataPoint {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "double precision" })
  value!: number;

  @Column({ type: "varchar" })
  label!: string;
}
