import base from '../../tsup.config.base.ts';

// The app ships a CLI and the demo database's worker, ESM only, no declarations.
export default {
  ...base,
  entry: ['src/cli.ts', 'src/demo-worker.ts'],
  format: ['esm'],
  dts: false,
};
