import base from '../../tsup.config.base.ts';

// The app ships a CLI, the demo database's starter (imported by the bin
// before the CLI, see src/demo.ts) and its worker: ESM only, no declarations.
export default {
  ...base,
  entry: ['src/cli.ts', 'src/demo.ts', 'src/demo-worker.ts'],
  format: ['esm'],
  dts: false,
};
