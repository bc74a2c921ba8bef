/**
 * A stand-in webhook receiver for hook tests: answers every POST with a settable status and counts
 * what arrived. (The real receiver is tested in test/app; here only the status code matters.)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceiverStub {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  /** Status answered to every request (default 201). */
  status: number;
  /** Requests received, by path. */
  readonly received: { path: string; authorization?: string }[];
  close(): Promise<void>;
}

export async function startReceiverStub(): Promise<ReceiverStub> {
  const received: ReceiverStub["received"] = [];
  const stub = { status: 201, received } as ReceiverStub & { baseUrl: string };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.push({ path: req.url ?? "", authorization: req.headers.authorization });
      res.writeHead(stub.status, { "content-type": "application/json", connection: "close" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stub.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stub.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return stub;
}
