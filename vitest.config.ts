import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["host-tests/**/*.test.ts"],
    reporters: ["default", "./host-tests/summary-reporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
