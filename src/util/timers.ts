/** The longest delay a Node.js timer takes: a longer one fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Call `fn` once Date.now() reaches `deadline` (unix ms), however far off:
 * the wait goes in steps of at most MAX_TIMER_MS (CLIENT PAUSE, WAIT and
 * blocking commands take timeouts up to INT64_MAX). Unreferenced: it keeps
 * no process alive. Returns the cancel.
 */
export function atDeadline(deadline: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = deadline - Date.now();
    if (left <= 0) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  timer = setTimeout(arm, Math.min(Math.max(0, deadline - Date.now()), MAX_TIMER_MS));
  timer.unref();
  return () => clearTimeout(timer);
}
