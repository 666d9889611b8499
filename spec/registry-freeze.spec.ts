import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";
import { External, RegistryFrozenError, TenantRouter } from "./setup/public-api";
import { useSqliteFixture } from "./setup/drivers";

@Entity()
class Note {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: "varchar" })
  text!: string;
}

describe("the registry freezes while a router is open", () => {
  const db = useSqliteFixture();

  it("throws RegistryFrozenError for a routing decorator that runs after bootstrap", async () => {
    const router = await TenantRouter.create({
      entities: [Note],
      databases: { default: db.optionsFor("default") },
      undiscoveredEntities: "ignore",
    });
    const decorateLate = () => {
      class LateReading {}
      External()(LateReading);
      return LateReading;
    };
    try {
      expect(decorateLate).toThrow(RegistryFrozenError);
      expect(decorateLate).toThrow(/after a TenantRouter was created/);
    } finally {
      await router.close();
    }
    // Once the router is closed the registry is open again (e.g. between test files).
    expect(decorateLate).not.toThrow();
  });
});
