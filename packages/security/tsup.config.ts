import base from '../../tsup.config.base.ts';

// `redis` is its own entry, so that importing the package never loads ioredis.
export default { ...base, entry: ['src/index.ts', 'src/redis.ts'] };
