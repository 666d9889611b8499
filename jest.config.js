/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", isolatedModules: false }],
  },
  moduleNameMapper: {
    "^typeorm-router$": "<rootDir>/lib/index.ts",
    "^typeorm-router/decorators$": "<rootDir>/decorators/index.ts",
    "^typeorm-router/testing$": "<rootDir>/lib/testing/index.ts",
    "^typeorm-router/testing/jest$": "<rootDir>/lib/testing/jest.ts",
    "^typeorm-router/nestjs$": "<rootDir>/lib/nestjs/index.ts",
  },
  setupFiles: ["reflect-metadata"],
  globalSetup: "<rootDir>/spec/setup/global-setup.ts",
  testTimeout: 60000,
};
