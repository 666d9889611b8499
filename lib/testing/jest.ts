// typeorm-router/testing/jest: the `toMatchSchema` matcher typed on jest's `expect`, and
// registered when jest's global `expect` is there. The only entry that needs @types/jest.
/// <reference types="jest" />
import type { SchemaDiffOptions } from "./schema-diff";
import { schemaMatchers, type SchemaSource } from "./schema-matcher";

declare global {
  // Declaration merging with @types/jest, so that `expect(a).toMatchSchema(b)` type-checks.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-empty-object-type
    interface Matchers<R, T = {}> {
      /**
       * Passes when the received schema matches `expected` under `options.ignore`; the failure
       * message lists every difference (received first). Await it: it is asynchronous.
       */
      toMatchSchema(expected: SchemaSource, options?: SchemaDiffOptions): Promise<R>;
    }
  }
}

const globalExpect = (globalThis as { expect?: { extend?: (matchers: object) => void } }).expect;
if (typeof globalExpect?.extend === "function") globalExpect.extend(schemaMatchers);

export { schemaMatchers };
