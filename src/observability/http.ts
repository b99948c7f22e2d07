/**
 * The HTTP listener on `metrics-port`: /metrics (Prometheus), /healthz (the
 * process answers: liveness) and /readyz (the server can serve: readiness).
 * It knows nothing of the server beyond the three functions it is given.
 */
import http from 'node:http';
import type net from 'node:net';

export interface HealthSource {
  /** the exposition text and its content type */
  metrics(): Promise<{ text: string; contentType: string }>;
  /** why the server cannot serve now (empty = ready) */
  notReady(): Promise<string[]>;
}

export class HealthServer {
  private readonly servers: http.Server[] = [];

  constructor(private readonly source: HealthSource) {}

  /** Listen on `port` at each address (the Redis listener's bind list); all or none. */
  async listen(port: number, hosts: string[]): Promise<number> {
    let bound = port;
    try {
      for (const host of hosts.length ? hosts : ['127.0.0.1']) {
        const server = http.createServer((req, res) => void this.handle(req, res));
        server.keepAliveTimeout = 5_000;
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: bound, host: host.replace(/^-/, '') }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        bound = (server.address() as net.AddressInfo).port;
        this.servers.push(server);
      }
    } catch (err) {
      this.close();
      throw err;
    }
    return bound;
  }

  close(): void {
    for (const s of this.servers) {
      s.close();
      s.closeAllConnections();
    }
    this.servers.length = 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed\n');
    try {
      if (path === '/metrics') {
        const { text, contentType } = await this.source.metrics();
        return reply(res, 200, text, contentType);
      }
      if (path === '/healthz' || path === '/livez') return reply(res, 200, 'ok\n');
      if (path === '/readyz') {
        const reasons = await this.source.notReady();
        return reasons.length === 0 ? reply(res, 200, 'ready\n') : reply(res, 503, reasons.join('\n') + '\n');
      }
      return reply(res, 404, 'not found: try /metrics, /healthz or /readyz\n');
    } catch (err) {
      return reply(res, 500, `${(err as Error).message}\n`);
    }
  }
}

function reply(res: http.ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
