import { Column, Entity, PrimaryColumn } from "typeorm";
import { External } from "typeorm-router";

/**
 * The one small table each tenant schema of the many-tenant benchmarks holds. The schemas
 * and their rows are created in bulk with SQL (see tenant-schemas.ts); the router only reads
 * them. Each row names its tenant, so a read can check it came from the right schema.
 */
@External()
@Entity("bench_item")
export class BenchItem {
  @PrimaryColumn({ type: "integer" })
  id!: number;

  @Column({ type: "varchar", length: 64 })
  tenant!: string;

  @Column({ type: "integer" })
  value!: number;
}
