import base from '../../tsup.config.base.ts';

// `row-bytes` is its own entry: the ODBC worker process loads it without the rest of core.
export default { ...base, entry: ['src/index.ts', 'src/row-bytes.ts'] };
