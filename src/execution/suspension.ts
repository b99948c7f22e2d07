import { RawReply, type Reply } from '../protocol/reply.js';

/**
 * A keyed command that must wait for something outside the keyspace before
 * it can finish (MIGRATE waits for the target server), without stopping the
 * event loop. Its handler does the synchronous part on resident keys and
 * returns a Suspended instead of a reply: `wait` is the outside work,
 * `resume` the synchronous rest, called with its outcome.
 *
 * The executor keeps the command's keys claimed meanwhile
 * (Scheduler.claim): later commands on them queue behind it, the keys stay
 * resident and unexpired, so `resume` finds them as the handler left them,
 * as if the command had run in one step as in Redis. Commands on other keys
 * go on. The client reads nothing further until the reply. `resume` runs
 * like a handler (errors become the reply, its mutations go through the
 * seam) and may return another Suspended (EXEC with a second MIGRATE).
 */
export class Suspended<T = unknown> extends RawReply {
  constructor(
    readonly wait: Promise<T>,
    readonly resume: (outcome: T) => Reply | Promise<Reply>,
  ) {
    super(Buffer.alloc(0));
  }
}
