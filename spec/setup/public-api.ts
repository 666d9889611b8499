// Specs import the library through its public entry point, as a user would.
export * from "typeorm-router";
export { Repository, EntityManager } from "typeorm";
