/** Talus's own version, and the Redis version whose behaviour it follows (clients check it). */
export const VERSION = { talus: '0.1.0', redis: '7.0.15' } as const;
