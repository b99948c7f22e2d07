/** Assertion helpers shared by the integration tests. */

/** The message of the error reply `p` rejects with; fails if it succeeds. */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error reply');
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
