// The one vitest configuration every workspace package tests with.
// A package's own vitest.config.ts re-exports this default.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Integration tests talk to real databases; give them room, but a hung
    // test still fails instead of blocking CI forever.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests must not pass by accident: a file without tests is an error.
    passWithNoTests: false,
    restoreMocks: true,
  },
});
