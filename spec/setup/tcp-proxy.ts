import net from "node:net";

/**
 * A TCP proxy in front of a real database server, for outages that specs make on purpose
 * without touching the server others use: `cut()` destroys every proxied connection and stops
 * listening (the server is gone: connections in flight break, new ones are refused), and
 * `restore()` listens again on the same port (the server is back).
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #port = 0;

  private constructor(targetPort: number, targetHost: string) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        // The other side is destroyed with it; an error here is the outage itself.
        socket.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
  }

  /** Starts a proxy to `targetHost:targetPort` on a free local port. */
  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort, targetHost);
    await proxy.restore();
    return proxy;
  }

  /** The local port the proxy listens on (the same after every `restore()`). */
  get port(): number {
    return this.#port;
  }

  /** Whether it listens (between `cut()` and `restore()` it does not). */
  get listening(): boolean {
    return this.#server.listening;
  }

  /** The outage: destroys every proxied connection and stops listening. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  /** The recovery: listens again, on the same port as before. */
  restore(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        this.#port = (this.#server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  /** Stops the proxy for good. */
  async stop(): Promise<void> {
    if (this.#server.listening) await this.cut();
  }
}
