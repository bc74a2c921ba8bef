/**
 * A small Azure Resource Manager (ARM) REST client: bearer token from a TokenCredential
 * (DefaultAzureCredential unless given: az login, workload identity, managed identity), JSON in and
 * out, `nextLink` paging, ARM's error shape, bounded retries on throttling. Used by the cloud image
 * build (components/receiver/image) and the deploy preflight (scripts/lib/preflight.ts).
 * No Pulumi here: it runs inside the dynamic-provider host and in plain scripts alike.
 *
 * The endpoint is https://management.azure.com unless HOOKFLEET_ARM_ENDPOINT (or the `endpoint`
 * option) says otherwise: a sovereign cloud, or a local stand-in in tests. HOOKFLEET_ARM_TOKEN, when
 * set, is used as the bearer token instead of DefaultAzureCredential (e.g. the output of
 * `az account get-access-token --query accessToken -o tsv`; it expires within about an hour).
 */
import type { AccessToken, TokenCredential } from "@azure/identity";

/** Public-cloud ARM endpoint ("Azure Resource Manager REST API reference", learn.microsoft.com). */
export const PUBLIC_ARM_ENDPOINT = "https://management.azure.com";
/** Environment variable overriding the ARM endpoint. */
export const ARM_ENDPOINT_ENV = "HOOKFLEET_ARM_ENDPOINT";
/** Environment variable holding a ready ARM bearer token (instead of DefaultAzureCredential). */
export const ARM_TOKEN_ENV = "HOOKFLEET_ARM_TOKEN";

export interface ArmClientOptions {
  /** ARM base URL; default HOOKFLEET_ARM_ENDPOINT, else the public cloud's. */
  endpoint?: string;
  /** Who calls ARM; default DefaultAzureCredential (created on first use). */
  credential?: TokenCredential;
  /** Token scope; default `<public ARM endpoint>/.default` (or `<endpoint>/.default` for a sovereign cloud). */
  scope?: string;
  /** Attempts for a throttled (429) or unavailable (5xx) answer; default 4. */
  attempts?: number;
  /** Longest single wait between attempts, ms; default 30000 (ARM's Retry-After is honoured up to it). */
  maxRetryDelayMs?: number;
}

/** An ARM error answer: `{"error": {"code", "message"}}` (ARM's common error response). */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path: string,
  ) {
    super(`ARM ${status} ${code} on ${path}: ${message}`);
  }
}

export interface ArmRequest {
  /** Path under the endpoint, starting with `/` (query string allowed). */
  path: string;
  apiVersion: string;
  method?: "GET" | "PUT" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
}

export class ArmClient {
  readonly endpoint: string;
  private readonly scope: string;
  private credential?: TokenCredential;
  private token?: AccessToken;
  private readonly attempts: number;
  private readonly maxRetryDelayMs: number;

  constructor(options: ArmClientOptions = {}) {
    this.endpoint = (options.endpoint ?? process.env[ARM_ENDPOINT_ENV] ?? PUBLIC_ARM_ENDPOINT).replace(
      /\/+$/,
      "",
    );
    const isLocal = /^http:\/\/(127\.|localhost|\[::1\])/.test(this.endpoint);
    this.scope = options.scope ?? `${isLocal ? PUBLIC_ARM_ENDPOINT : this.endpoint}/.default`;
    this.credential = options.credential;
    this.attempts = options.attempts ?? 4;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  }

  private async bearer(): Promise<string> {
    // Refresh a little before expiry, so a long build's polling never sends a dead token.
    if (this.token && this.token.expiresOnTimestamp - Date.now() > 120_000) return this.token.token;
    if (!this.credential) {
      const given = process.env[ARM_TOKEN_ENV];
      if (given) {
        // No expiry is known for a handed-in token: assume the usual hour from now.
        this.credential = {
          getToken: async () => ({ token: given, expiresOnTimestamp: Date.now() + 3_600_000 }),
        };
      } else {
        const { DefaultAzureCredential } = await import("@azure/identity");
        this.credential = new DefaultAzureCredential();
      }
    }
    const token = await this.credential.getToken(this.scope);
    if (!token)
      throw new Error(`no Azure token for ${this.scope}: sign in (az login) or set AZURE_* variables`);
    this.token = token;
    return token.token;
  }

  /** One ARM call; the parsed JSON body (undefined for an empty body). Throws ArmError on 4xx/5xx. */
  async request<T>(req: ArmRequest): Promise<{ status: number; body: T; headers: Headers }> {
    const sep = req.path.includes("?") ? "&" : "?";
    const url = /^https?:\/\//.test(req.path)
      ? req.path
      : `${this.endpoint}${req.path}${sep}api-version=${encodeURIComponent(req.apiVersion)}`;
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(url, {
        method: req.method ?? "GET",
        headers: {
          authorization: `Bearer ${await this.bearer()}`,
          ...(req.body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
      const text = await res.text();
      if ((res.status === 429 || res.status >= 500) && attempt < this.attempts) {
        await sleep(retryDelayMs(res.headers.get("retry-after"), attempt, this.maxRetryDelayMs));
        continue;
      }
      const body = text ? (JSON.parse(text) as unknown) : undefined;
      if (res.status >= 400) {
        const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
        throw new ArmError(
          res.status,
          error?.code ?? "Unknown",
          error?.message ?? text.slice(0, 300),
          req.path,
        );
      }
      return { status: res.status, body: body as T, headers: res.headers };
    }
  }

  /** Every item of an ARM list, following `nextLink` (ARM's paging contract). */
  async list<T>(path: string, apiVersion: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { value?: T[]; nextLink?: string } =
        (await this.request<{ value?: T[]; nextLink?: string }>({ path: next, apiVersion })).body ?? {};
      items.push(...(page.value ?? []));
      next = page.nextLink;
    }
    return items;
  }
}

/** Retry-After in seconds (ARM sends seconds) when given, else exponential back-off; capped. */
export function retryDelayMs(retryAfter: string | null, attempt: number, capMs: number): number {
  const seconds = Number(retryAfter);
  const ms = retryAfter !== null && Number.isFinite(seconds) ? seconds * 1000 : 500 * 2 ** (attempt - 1);
  return Math.min(Math.max(ms, 0), capMs);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A container registry's ARM id and its parts (ARM resource id format, Microsoft.ContainerRegistry/registries). */
export interface RegistryId {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** `/subscriptions/{s}/resourceGroups/{g}`: the scope of the registry's group. */
  groupScope: string;
}

/**
 * The parts of `/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.ContainerRegistry/registries/{name}`
 * (case-insensitive, as ARM compares ids), or undefined for anything else. The one parser of
 * registry ids: the component, the cloud build and the preflight all read `acrResourceId` with it.
 */
export function parseRegistryId(id: string): RegistryId | undefined {
  const m =
    /^(\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+))\/providers\/Microsoft\.ContainerRegistry\/registries\/([^/]+)$/i.exec(
      id,
    );
  return m ? { groupScope: m[1], subscriptionId: m[2], resourceGroup: m[3], name: m[4] } : undefined;
}
