import { Column, Entity, PrimaryColumn } from "typeorm";
import { RoutedTo, Unmanaged } from "typeorm-router";

/** A price plan in the billing system's `catalog` database: read here, never written. */
@Unmanaged()
@RoutedTo("catalog")
@Entity({ name: "plans" })
export class Plan {
  @PrimaryColumn({ type: "integer" })
  id!: number;

  @Column({ type: "varchar" })
  name!: string;
}
