import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

/** A project registered in the shared `default` database; each one is a tenant. */
@Entity()
export class Project {
  @PrimaryGeneratedColumn()
  id!: number;

  /** The tenant id of the project. */
  @Column({ type: "varchar", unique: true })
  slug!: string;

  @Column({ type: "varchar" })
  name!: string;
}
