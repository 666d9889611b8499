import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

/** A customer account in the shared `default` database; each one is a tenant. */
@Entity()
export class Account {
  @PrimaryGeneratedColumn()
  id!: number;

  /** The tenant id of the account. */
  @Column({ type: "varchar", unique: true })
  slug!: string;
}
