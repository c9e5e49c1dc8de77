import base from '../../tsup.config.base.ts';

// The app ships a CLI: ESM only, no declarations.
export default {
  ...base,
  entry: ['src/cli.ts'],
  format: ['esm'],
  dts: false,
};
