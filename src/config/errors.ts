export { ConfigError } from './schema.js';
