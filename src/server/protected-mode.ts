/**
 * protected-mode: with no password for the default user, only clients on the
 * loopback interface (or the Unix socket) may connect; others get Redis's
 * DENIED error and are disconnected. As in Redis 7.0, `bind` plays no part,
 * and "loopback" means exactly 127.0.0.1 or ::1 (127.0.0.2 is not).
 */

/** Redis 7.0's reply to a refused client, byte for byte (clients and tools match on it). */
export const PROTECTED_MODE_DENIED =
  '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. ' +
  'If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface " +
  'by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible ' +
  'from internet if you do so. Use CONFIG REWRITE to make this change permanent. ' +
  '2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected ' +
  "mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
  '4) Setup a an authentication password for the default user. ' +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n';

/**
 * Whether a peer counts as local. `undefined` is a Unix socket. An IPv4
 * address on a dual-stack listener comes as ::ffff:127.0.0.1, which is the
 * same peer as 127.0.0.1.
 */
export function isLoopbackPeer(address: string | undefined): boolean {
  return address === undefined || address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Whether a new connection from `address` is refused. */
export function refusedByProtectedMode(opts: { protectedMode: boolean; requirepass: string }, address: string | undefined): boolean {
  return opts.protectedMode && opts.requirepass === '' && !isLoopbackPeer(address);
}
