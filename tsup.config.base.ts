// The one tsup configuration every publishable package builds with.
// A package's own tsup.config.ts re-exports this default; tsup runs in the
// package's directory, so the relative entry resolves per package.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  // Dual ESM + CJS with a declaration file per format (index.d.ts and
  // index.d.cts), so both `import` and `require` consumers get correct types
  // (checked by publint and @arethetypeswrong/cli in `pnpm check:packages`).
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  treeshake: true,
  shims: false,
});
