/**
 * A tiny HTTP server on loopback that answers with bodies the test hands it — Microsoft's example
 * bodies from ../shared/ado-spec, byte for byte as parsed from the example file — and records
 * every request, so the real AdoClient (and the heal job and provider through it) parse exactly
 * what ADO publishes, and every request we send can be checked against the spec. Not an emulator:
 * no state of its own beyond what a test's routes keep.
 *
 * Layout: org APIs at {baseUrl}/{org}/_apis/…, the PAT API at {baseUrl}/vssps/{org}/_apis/…; the
 * location lookups of azure-devops-node-api (OPTIONS _apis/{area}, GET _apis/ResourceAreas) are
 * answered like a location service that offers projects at 7.1, the spec's version, and are not
 * recorded.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { locationsFor } from "../../../devkit/ado-emulator";

export interface RecordedRequest {
  method: string;
  /** The path as the spec writes it: /{organization}/_apis/… (the vssps prefix removed). */
  path: string;
  query: URLSearchParams;
  /** The parsed JSON body, if any. */
  body?: unknown;
  headers: http.IncomingHttpHeaders;
}

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A route: method and the path after the organization (e.g. "/_apis/hooks/subscriptions"). */
export interface Route {
  method: string;
  path: string | RegExp;
  answer: (request: RecordedRequest, match: RegExpMatchArray | null) => Answer;
}

export interface ExampleServer {
  readonly baseUrl: string;
  readonly org: string;
  orgUrl: string;
  vsspsUrl: string;
  requests: RecordedRequest[];
  routes: Route[];
  close(): Promise<void>;
}

const SPEC_LOCATION_VERSIONS = { maxVersion: "7.1", releasedVersion: "7.1", resourceVersion: 1 };

export async function startExampleServer(routes: Route[] = [], org = "fabrikam"): Promise<ExampleServer> {
  const requests: RecordedRequest[] = [];
  const state = { routes: [...routes] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://example");
      const text = Buffer.concat(chunks).toString("utf8");
      const send = (a: Answer) => {
        const payload = a.body === undefined ? "" : JSON.stringify(a.body);
        res.writeHead(a.status, {
          ...(payload ? { "Content-Type": "application/json; charset=utf-8" } : {}),
          ...a.headers,
        });
        res.end(payload);
      };
      const after = url.pathname.replace(/^\/vssps/, "").replace(/^\/[^/]+/, "");
      // The node client's location lookups: not ADO calls of ours, not recorded.
      if (req.method === "OPTIONS")
        return send({ status: 200, body: locationsFor(after.split("/")[2] ?? "", SPEC_LOCATION_VERSIONS) });
      if (req.method === "GET" && /^\/_apis\/ResourceAreas/i.test(after))
        return send({ status: 200, body: { count: 0, value: null } });
      const request: RecordedRequest = {
        method: req.method ?? "GET",
        path: url.pathname.replace(/^\/vssps/, ""),
        query: url.searchParams,
        body: text ? (JSON.parse(text) as unknown) : undefined,
        headers: req.headers,
      };
      requests.push(request);
      for (const route of state.routes) {
        if (route.method !== request.method) continue;
        const match =
          typeof route.path === "string" ? (route.path === after ? [after] : null) : after.match(route.path);
        if (match) return send(route.answer(request, match as RegExpMatchArray));
      }
      send({
        status: 404,
        body: { message: `no example for ${request.method} ${after}`, typeKey: "NotFound" },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    org,
    orgUrl: `${baseUrl}/${org}`,
    vsspsUrl: `${baseUrl}/vssps/${org}`,
    requests,
    get routes() {
      return state.routes;
    },
    set routes(r: Route[]) {
      state.routes = r;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
