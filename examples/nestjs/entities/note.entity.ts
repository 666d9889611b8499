import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External } from "typeorm-router";

/** A note; it lives in every tenant database and never in `default`. */
@External()
@Entity()
export class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  body!: string;
}
