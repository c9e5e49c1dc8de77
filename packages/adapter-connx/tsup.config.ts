import base from '../../tsup.config.base.ts';

// The worker process's entry is built beside the package's (dist/worker.js).
export default { ...base, entry: ['src/index.ts', 'src/worker.ts'] };
