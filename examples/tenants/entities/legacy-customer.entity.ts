import { Column, Entity, PrimaryColumn } from "typeorm";
import { ReadOnly, RoutedTo, Unmanaged } from "typeorm-router";

/** A customer in another system's database: read here, never written, never migrated. */
@ReadOnly()
@Unmanaged({ createInTests: true })
@RoutedTo("legacy")
@Entity({ name: "customers" })
export class LegacyCustomer {
  @PrimaryColumn({ type: "integer" })
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}
