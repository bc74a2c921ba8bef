/**
 * A local stand-in for the few Azure Resource Manager operations HookFleet calls itself (not through
 * azure-native): the resource providers list and the caller's permissions (the deploy preflight),
 * and ACR's source upload, scheduleRun and run status (the cloud image build), plus the blob the
 * upload URL points at. Shapes follow the ARM REST reference for each operation; requests are
 * recorded so tests can assert what was sent. Loopback only, port chosen by the OS.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { TokenCredential } from "@azure/identity";

export interface ArmProvider {
  namespace: string;
  registrationState: "Registered" | "NotRegistered" | "Registering" | "Unregistered";
}

/** One entry of "Permissions - List For Resource Group": allowed and excluded actions. */
export interface ArmPermission {
  actions: string[];
  notActions: string[];
}

export interface ArmStandInOptions {
  /** Registered state of resource providers (GET /subscriptions/{id}/providers), served in pages of 2. */
  providers?: ArmProvider[];
  /** Permissions by scope (`/subscriptions/{id}` or `/subscriptions/{id}/resourceGroups/{name}`). */
  permissions?: Record<string, ArmPermission[]>;
  /** Statuses `GET …/runs/{id}` answers in turn (the last repeats). */
  runStatuses?: string[];
  /** Digest of the image a successful run reports. */
  digest?: string;
  /**
   * How `scheduleRun` answers: `ok` (default) 200 with the Run; `accepted` 202 with no body and a
   * `Location` that answers 202 once, then 200 with the Run (ARM's long-running POST, which the spec
   * allows); `tasksNotAllowed` the 400 ACR gives subscriptions that may not run ACR Tasks.
   */
  scheduleRun?: "ok" | "accepted" | "tasksNotAllowed";
  /** The bearer token a request must carry; default `stand-in-token`. */
  token?: string;
}

export interface RecordedArmRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ArmStandIn {
  endpoint: string;
  requests: RecordedArmRequest[];
  /** Blobs uploaded to the stand-in storage, by path. */
  blobs: Map<string, Buffer>;
  /** A credential handing out the token the stand-in accepts (offline). */
  credential: TokenCredential;
  close(): Promise<void>;
}

export async function startArmStandIn(options: ArmStandInOptions = {}): Promise<ArmStandIn> {
  const token = options.token ?? "stand-in-token";
  const requests: RecordedArmRequest[] = [];
  const blobs = new Map<string, Buffer>();
  let runPolls = 0;
  let endpoint = "";

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const armError = (res: http.ServerResponse, status: number, code: string, message: string) =>
    json(res, status, { error: { code, message } });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const body = Buffer.concat(chunks);
      requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      // Blob storage: authorised by the SAS in the URL, not by a bearer token.
      if (url.pathname.startsWith("/blob/")) {
        if (
          req.method !== "PUT" ||
          req.headers["x-ms-blob-type"] !== "BlockBlob" ||
          !url.searchParams.get("sig")
        )
          return json(res, 400, { error: "expected PUT with x-ms-blob-type: BlockBlob and a SAS" });
        blobs.set(url.pathname, body);
        res.writeHead(201).end();
        return;
      }
      if (req.headers.authorization !== `Bearer ${token}`)
        return armError(res, 401, "InvalidAuthenticationToken", "The access token is invalid.");
      const apiVersion = url.searchParams.get("api-version");
      let m: RegExpExecArray | null;
      if ((m = /^\/subscriptions\/([^/]+)\/providers$/.exec(url.pathname)) && req.method === "GET") {
        if (apiVersion !== "2021-04-01")
          return armError(res, 400, "InvalidApiVersionParameter", `${apiVersion}`);
        const all = (options.providers ?? []).map((p) => ({
          id: `/subscriptions/${m![1]}/providers/${p.namespace}`,
          ...p,
        }));
        const start = Number(url.searchParams.get("page") ?? 0);
        const page = all.slice(start, start + 2);
        const next =
          start + 2 < all.length
            ? `${endpoint}${url.pathname}?api-version=${apiVersion}&page=${start + 2}`
            : undefined;
        return json(res, 200, { value: page, ...(next ? { nextLink: next } : {}) });
      }
      if (
        (m =
          /^(\/subscriptions\/[^/]+(?:\/resourcegroups\/[^/]+)?)\/providers\/Microsoft\.Authorization\/permissions$/i.exec(
            url.pathname,
          ))
      ) {
        if (apiVersion !== "2022-04-01")
          return armError(res, 400, "InvalidApiVersionParameter", `${apiVersion}`);
        const scope = Object.keys(options.permissions ?? {}).find(
          (s) => s.toLowerCase() === m![1].toLowerCase(),
        );
        if (!scope)
          return /\/resourcegroups\//i.test(m[1])
            ? armError(res, 404, "ResourceGroupNotFound", `Resource group not found: ${m[1]}`)
            : armError(
                res,
                404,
                "SubscriptionNotFound",
                `The subscription '${m[1].split("/")[2]}' could not be found.`,
              );
        return json(res, 200, {
          value: options.permissions![scope].map((p) => ({ ...p, dataActions: [], notDataActions: [] })),
        });
      }
      const registry =
        /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)/i.exec(
          url.pathname,
        );
      if (registry) {
        if (apiVersion !== "2019-06-01-preview")
          return armError(res, 400, "InvalidApiVersionParameter", `${apiVersion}`);
        const rest = url.pathname.slice(registry[0].length);
        if (rest === "/listBuildSourceUploadUrl" && req.method === "POST") {
          const relativePath = `source/202611290000/${requests.length}.tar.gz`;
          return json(res, 200, {
            uploadUrl: `${endpoint}/blob/${relativePath}?sv=2020-10-02&sig=stand-in`,
            relativePath,
          });
        }
        const run = { properties: { runId: "ca1", status: "Queued" } };
        if (rest === "/scheduleRun" && req.method === "POST") {
          if (options.scheduleRun === "tasksNotAllowed")
            return armError(
              res,
              400,
              "TasksOperationsNotAllowed",
              `ACR Tasks requests for the registry ${registry[1]} are not permitted.`,
            );
          if (options.scheduleRun === "accepted") {
            res.writeHead(202, {
              location: `${endpoint}${registry[0]}/scheduleRunResults/op1?api-version=${apiVersion}`,
              "retry-after": "0",
            });
            return res.end();
          }
          return json(res, 200, run);
        }
        if (rest === "/scheduleRunResults/op1" && req.method === "GET") {
          const polls = requests.filter((r) => r.path.endsWith("/scheduleRunResults/op1")).length;
          if (polls < 2) {
            res.writeHead(202, { location: `${endpoint}${url.pathname}${url.search}`, "retry-after": "0" });
            return res.end();
          }
          return json(res, 200, run);
        }
        if (rest === "/runs/ca1" && req.method === "GET") {
          const statuses = options.runStatuses ?? ["Queued", "Running", "Succeeded"];
          const status = statuses[Math.min(runPolls++, statuses.length - 1)];
          const request = JSON.parse(
            requests.find((r) => r.path.endsWith("/scheduleRun"))!.body.toString(),
          ) as { imageNames: string[] };
          const [repository, tag] = request.imageNames[0].split(":");
          return json(res, 200, {
            properties: {
              runId: "ca1",
              status,
              ...(status === "Failed" ? { runErrorMessage: "failed to build: step 4/9 exited 1" } : {}),
              ...(status === "Succeeded"
                ? {
                    outputImages: [
                      {
                        registry: `${registry[1]}.azurecr.io`,
                        repository,
                        tag,
                        digest: options.digest ?? `sha256:${"d".repeat(64)}`,
                      },
                    ],
                  }
                : {}),
            },
          });
        }
      }
      armError(res, 404, "NotFound", `${req.method} ${url.pathname} is not served by the stand-in`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    requests,
    blobs,
    credential: { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps connections alive; drop them so the close (and the test worker) ends now.
        server.closeAllConnections();
      }),
  };
}
