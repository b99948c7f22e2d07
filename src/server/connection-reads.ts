import net from 'node:net';
import process from 'node:process';
// the module binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';

/**
 * How a connection's bytes reach Talus.
 *
 * Node's default for an accepted socket is its Readable stream: per read, a
 * 64 KB buffer malloc'ed and shrunk to the bytes read, a Buffer over it, the
 * stream's push, its 'data' event and a `maybeReadMore` scheduled on the next
 * tick (a tick object Node 20 builds through the runtime). At one request per
 * read (redis-benchmark -P 1) that is 1.5-2 µs of a GET's ~12 µs of CPU.
 *
 * Node's `onread` option of `new net.Socket()` (documented: reads go into a
 * buffer the caller gives, and a callback gets the count; 'end', 'close',
 * 'error', pause() and resume() as usual) skips all of that, but net.Server
 * has no such option for the sockets it accepts. So the accepted socket (its
 * server made with `pauseOnConnect`, so it never started reading) gives its
 * handle to a socket made with `onread`, the way net.Server itself makes one
 * from an accepted handle. That takes the socket's `_handle` and the
 * constructor's `handle` option, internals that Node has kept since 0.x (its
 * own server, cluster and child_process handle passing build sockets so);
 * where they are not as expected (`onreadAvailable`), or when the caller says
 * so, the accepted socket is read through 'data' events as before.
 */

/** The shape of a stream handle that `new net.Socket({ handle, onread })` needs. */
interface StreamHandle {
  readStart(): number;
  readStop(): number;
  useUserBuffer(buf: Uint8Array): void;
}

/** Node majors whose net.Socket takes a handle with `onread` as this module relies on (checked by test/unit/connection-reads.test.ts). */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
export const onreadAvailable = NODE_MAJOR >= 20 && NODE_MAJOR <= 24;

/**
 * What every onread socket reads into: one buffer for all of them, since a
 * read's callback runs to its end before the next read of any socket. The
 * callback copies out what it passes on (requests' arguments are slices of
 * the chunk, and some are kept: MULTI's queue, a waiting command).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** READ_BUFFER as a plain view: `subarray` on it makes no Buffer (no `.buffer` lookup) */
const READ_VIEW = new Uint8Array(READ_BUFFER.buffer, READ_BUFFER.byteOffset, READ_BUFFER.length);

function handleOf(socket: net.Socket): StreamHandle | null {
  const handle = (socket as unknown as { _handle?: Partial<StreamHandle> | null })._handle;
  if (handle == null || typeof handle.readStart !== 'function' || typeof handle.readStop !== 'function' || typeof handle.useUserBuffer !== 'function') return null;
  return handle as StreamHandle;
}

/**
 * Start reading a socket accepted by a server made with `pauseOnConnect`:
 * `onBytes` gets each read's bytes (a Buffer of its own, not modified later)
 * until the socket ends. Returns the socket to use from now on (writes,
 * pause/resume, events): a new one when it reads through `onread`, else the
 * accepted one. `useOnread` false: through 'data' events.
 */
export function readConnection(accepted: net.Socket, onBytes: (chunk: Buffer) => void, useOnread = onreadAvailable): net.Socket {
  const handle = useOnread ? handleOf(accepted) : null;
  if (handle === null) {
    accepted.on('data', onBytes);
    accepted.resume();
    return accepted;
  }
  const socket = new net.Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: READ_BUFFER,
      callback: (n: number) => {
        const chunk = Buffer.allocUnsafe(n);
        chunk.set(READ_VIEW.subarray(0, n));
        onBytes(chunk);
      },
    },
  } as net.SocketConstructorOpts);
  // The accepted socket lets go of the handle; destroyed without one, it
  // only counts the connection out of its server and emits its own 'close'.
  (accepted as unknown as { _handle: unknown })._handle = null;
  accepted.destroy();
  return socket;
}
