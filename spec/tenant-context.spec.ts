import {
  InvalidTenantIdError,
  NoTenantContextError,
  currentTenant,
  requireTenant,
  withTenant,
} from "./setup/public-api";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("withTenant / currentTenant / requireTenant", () => {
  it("has no tenant outside withTenant", () => {
    expect(currentTenant()).toBeUndefined();
    expect(() => requireTenant()).toThrow(NoTenantContextError);
  });

  it("gives requireTenant a NoTenantContextError with a stable code and the fix", () => {
    let error: unknown;
    try {
      requireTenant();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NoTenantContextError);
    expect((error as NoTenantContextError).code).toBe("NO_TENANT_CONTEXT");
    expect((error as Error).message).toContain("withTenant(");
  });

  it("sets the tenant for a synchronous callback and returns its value", () => {
    const seen = withTenant("acme", () => [currentTenant(), requireTenant()]);
    expect(seen).toEqual(["acme", "acme"]);
    expect(currentTenant()).toBeUndefined();
  });

  it("keeps the tenant across awaits", async () => {
    const seen = await withTenant("acme", async () => {
      const steps = [currentTenant()];
      await null;
      steps.push(currentTenant());
      await Promise.resolve();
      steps.push(currentTenant());
      await sleep(1);
      steps.push(requireTenant());
      return steps;
    });
    expect(seen).toEqual(["acme", "acme", "acme", "acme"]);
    expect(currentTenant()).toBeUndefined();
  });

  it("keeps the tenant in setTimeout callbacks, even after withTenant has returned", async () => {
    let resolveSeen!: (tenant: string | undefined) => void;
    const seen = new Promise<string | undefined>((resolve) => (resolveSeen = resolve));
    withTenant("acme", () => {
      setTimeout(() => resolveSeen(currentTenant()), 5);
    });
    // withTenant has returned: the caller is back outside any tenant.
    expect(currentTenant()).toBeUndefined();
    expect(await seen).toBe("acme");
  });

  it("keeps the tenant in setImmediate and process.nextTick callbacks", async () => {
    const seen = await withTenant(
      "globex",
      () =>
        new Promise<(string | undefined)[]>((resolve) => {
          setImmediate(() => {
            const first = currentTenant();
            process.nextTick(() => resolve([first, currentTenant()]));
          });
        }),
    );
    expect(seen).toEqual(["globex", "globex"]);
  });

  it("keeps the tenant along a .then chain", async () => {
    const seen = await withTenant("acme", () =>
      Promise.resolve()
        .then(() => [currentTenant()])
        .then((steps) => sleep(1).then(() => [...steps, currentTenant()]))
        .then((steps) => nextImmediate().then(() => [...steps, currentTenant()]))
        .catch(() => ["unreachable"])
        .finally(() => undefined),
    );
    expect(seen).toEqual(["acme", "acme", "acme"]);
  });

  it("keeps each tenant in its own branch of a Promise.all fan-out", async () => {
    const tenants = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];
    const results = await Promise.all(
      tenants.map((tenant, index) =>
        withTenant(tenant, async () => {
          const seen: (string | undefined)[] = [];
          // Different delays so that the branches interleave.
          await sleep((index * 3) % 5);
          seen.push(currentTenant());
          await nextImmediate();
          seen.push(currentTenant());
          const inner = await Promise.all(
            [0, 1, 2].map(async (n) => {
              await sleep(n);
              return currentTenant();
            }),
          );
          seen.push(...inner);
          return seen;
        }),
      ),
    );
    results.forEach((seen, index) => {
      expect(seen).toEqual(Array(5).fill(tenants[index]));
    });
    expect(currentTenant()).toBeUndefined();
  });

  it("lets a nested withTenant override the outer tenant and restores it afterwards", async () => {
    const seen = await withTenant("outer", async () => {
      const steps = [`before:${currentTenant()}`];
      const inner = await withTenant("inner", async () => {
        await sleep(1);
        return `inner:${currentTenant()}`;
      });
      steps.push(inner);
      steps.push(`after:${currentTenant()}`);
      await nextImmediate();
      steps.push(`later:${currentTenant()}`);
      return steps;
    });
    expect(seen).toEqual(["before:outer", "inner:inner", "after:outer", "later:outer"]);
    expect(currentTenant()).toBeUndefined();
  });

  it("keeps the outer tenant in outer code that runs while a nested call is still pending", async () => {
    const seen = await withTenant("outer", async () => {
      const pending = withTenant("inner", async () => {
        await sleep(5);
        return currentTenant();
      });
      // The nested call is in flight; the outer code keeps its own tenant meanwhile.
      await sleep(1);
      const meanwhile = currentTenant();
      return [meanwhile, await pending, currentTenant()];
    });
    expect(seen).toEqual(["outer", "inner", "outer"]);
  });

  it("restores the outer tenant when a nested callback throws", () => {
    const seen = withTenant("outer", () => {
      expect(() =>
        withTenant("inner", () => {
          throw new Error("boom");
        }),
      ).toThrow("boom");
      return currentTenant();
    });
    expect(seen).toBe("outer");
    expect(currentTenant()).toBeUndefined();
  });

  it("rejects with the callback's error and leaves no tenant behind", async () => {
    await expect(
      withTenant("acme", async () => {
        await sleep(1);
        throw new Error("failed inside acme");
      }),
    ).rejects.toThrow("failed inside acme");
    expect(currentTenant()).toBeUndefined();
  });

  it("keeps interleaved concurrent requests apart", async () => {
    const log: string[] = [];
    const request = (tenant: string, delays: number[]) =>
      withTenant(tenant, async () => {
        for (const delay of delays) {
          await sleep(delay);
          log.push(`${tenant}=${currentTenant()}`);
        }
      });
    await Promise.all([request("a", [3, 1, 4, 1]), request("b", [1, 5, 0, 2])]);
    expect(log).toHaveLength(8);
    for (const entry of log) {
      const [expected, actual] = entry.split("=");
      expect(actual).toBe(expected);
    }
  });

  it("throws InvalidTenantIdError before fn runs for an invalid id", () => {
    const invalid: unknown[] = ["", "A", " a", "../x", "a;drop", "tënant", "a".repeat(64), "-a"];
    for (const id of invalid) {
      const fn = jest.fn(() => "ran");
      let error: unknown;
      try {
        withTenant(id as string, fn);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidTenantIdError);
      expect((error as InvalidTenantIdError).code).toBe("INVALID_TENANT_ID");
      expect(fn).not.toHaveBeenCalled();
    }
    expect(currentTenant()).toBeUndefined();
  });

  it("throws InvalidTenantIdError for ids that are not strings, before fn runs", () => {
    for (const id of [undefined, null, 42, { tenant: "acme" }, ["acme"]]) {
      const fn = jest.fn();
      expect(() => withTenant(id as unknown as string, fn)).toThrow(InvalidTenantIdError);
      expect(fn).not.toHaveBeenCalled();
    }
  });

  it("throws InvalidTenantIdError for a nested invalid id without touching the outer tenant", () => {
    const fn = jest.fn();
    const seen = withTenant("outer", () => {
      expect(() => withTenant("Outer", fn)).toThrow(InvalidTenantIdError);
      return currentTenant();
    });
    expect(fn).not.toHaveBeenCalled();
    expect(seen).toBe("outer");
  });

  it("accepts ids at the edges of the pattern", () => {
    for (const id of ["a", "0", "a-b_c", "9".repeat(63), `x${"-".repeat(62)}`]) {
      expect(withTenant(id, () => currentTenant())).toBe(id);
    }
  });
});
