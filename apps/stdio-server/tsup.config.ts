import base from '../../tsup.config.base.ts';

// The app ships a CLI, the demo database's starter (imported by the bin
// before the CLI, see src/demo.ts) and its worker, and the launcher the HTTP
// app shares (src/launch.ts: flags, environment, configuration, demo
// database, runtime), the one entry with declarations. ESM only.
export default {
  ...base,
  entry: ['src/cli.ts', 'src/demo.ts', 'src/demo-worker.ts', 'src/launch.ts'],
  format: ['esm'],
  dts: { entry: { launch: 'src/launch.ts' } },
};
