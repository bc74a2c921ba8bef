/**
 * LocalReceiverRevision's provider (served by the stub in ./local-revision.ts): hands a receiver
 * that the program does not deploy its credential settings through the revision endpoint of the
 * host that runs it, and returns once the receiver runs with them.
 *
 * The revision endpoint (served by `npm run sandbox`'s local receiver host, scripts/lib/sandbox-receivers.ts):
 *
 *   PUT {revisionUrl}   Authorization: Bearer <HOOKFLEET_RECEIVER_REVISION_TOKEN>
 *                       body: CredentialSettings {systems, urlTokens, readTokens} (hashes only)
 *     → 200 {"revision": "<fingerprint>"} once the receiver runs with exactly these settings;
 *       400 {message} when the receiver refuses them (it keeps the ones it had); 401 bad token
 *   GET {revisionUrl}   → 200 {"revision": "<fingerprint of the settings in force>"}
 *
 * The fingerprint is `settingsRevision` below, on both sides. Refresh reads the live revision, so
 * a receiver restarted with other settings is drift and the next `up` hands them over again. The
 * token comes from the environment at run time (like AZURE_DEVOPS_EXT_PAT), never from state.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { CredentialSettings } from "../../app/config";
import { sha256Hex } from "../../app/tokens";
import { completeProvider } from "../dynamic/complete";
import { hasUnknownInputs } from "../dynamic/unknown";

/** The bearer token of the revision endpoint, read from the provider's environment. */
export const REVISION_TOKEN_ENV = "HOOKFLEET_RECEIVER_REVISION_TOKEN";

/** How long one call to the revision endpoint may take. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface LocalReceiverRevisionInputs {
  /** The receiver's base URL (passed through: the hooks' URL is built from this output). */
  receiverUrl: string;
  /** The revision endpoint of the host that runs the receiver. */
  revisionUrl: string;
  /** What the receiver must accept: systems, URL-token and read-token hashes (secret). */
  settings: CredentialSettings;
}

export interface LocalReceiverRevisionOutputs extends LocalReceiverRevisionInputs {
  /** Fingerprint of the settings the receiver runs with (after a refresh: the live one). */
  revision: string;
}

/** JSON with object keys sorted: the engine hands providers objects with their keys reordered. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fingerprint of a receiver's credential settings (hashes of hashes, never a secret), the same
 * whatever order their keys come in.
 */
export function settingsRevision(settings: unknown): string {
  return sha256Hex(canonicalJson(settings)).slice(0, 16);
}

export interface LocalReceiverRevisionDeps {
  fetch?: typeof fetch;
  /** The endpoint's token (default: HOOKFLEET_RECEIVER_REVISION_TOKEN). */
  token?: () => string | undefined;
}

/** What the endpoint said, as an error that names the endpoint and what to do (never the token). */
async function call(
  deps: Required<LocalReceiverRevisionDeps>,
  method: "GET" | "PUT",
  url: string,
  body?: CredentialSettings,
): Promise<string> {
  const token = deps.token();
  let res: Response;
  try {
    res = await deps.fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new Error(
      `the receiver's revision endpoint ${url} cannot be reached (${(err as Error).message}): ` +
        "is the host that runs the receiver (npm run sandbox) still running?",
    );
  }
  const text = await res.text();
  let answer: { revision?: unknown; message?: unknown } = {};
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    // reported below with the status
  }
  if (res.status === 401)
    throw new Error(
      `the receiver's revision endpoint ${url} refused the token: ${REVISION_TOKEN_ENV} must be the one its host printed`,
    );
  if (!res.ok || typeof answer.revision !== "string")
    throw new Error(
      `the receiver's revision endpoint ${url} answered ${res.status}` +
        (typeof answer.message === "string" ? `: ${answer.message}` : ""),
    );
  return answer.revision;
}

export function createLocalReceiverRevisionProvider(
  options: LocalReceiverRevisionDeps = {},
): pulumi.dynamic.ResourceProvider {
  const deps: Required<LocalReceiverRevisionDeps> = {
    fetch: options.fetch ?? ((...args) => fetch(...args)),
    token: options.token ?? (() => process.env[REVISION_TOKEN_ENV] || undefined),
  };
  const roll = async (inputs: LocalReceiverRevisionInputs): Promise<LocalReceiverRevisionOutputs> => {
    const wanted = settingsRevision(inputs.settings);
    const revision = await call(deps, "PUT", inputs.revisionUrl, inputs.settings);
    if (revision !== wanted)
      throw new Error(
        `the receiver's revision endpoint ${inputs.revisionUrl} reports revision ${revision}, not ${wanted}: ` +
          "the receiver does not run with the settings it was given",
      );
    return {
      receiverUrl: inputs.receiverUrl,
      revisionUrl: inputs.revisionUrl,
      settings: inputs.settings,
      revision,
    };
  };
  return {
    async diff(_id: string, olds: LocalReceiverRevisionOutputs, news: LocalReceiverRevisionInputs) {
      // Unknown settings (a credential rotating, in a preview): a new revision, as on Azure.
      const changes =
        hasUnknownInputs(news as unknown as Record<string, unknown>) ||
        olds.receiverUrl !== news.receiverUrl ||
        olds.revisionUrl !== news.revisionUrl ||
        olds.revision !== settingsRevision(news.settings);
      return { changes, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: LocalReceiverRevisionInputs) {
      return { id: "receiver-revision", outs: await roll(inputs) };
    },
    async update(_id: string, _olds: LocalReceiverRevisionOutputs, news: LocalReceiverRevisionInputs) {
      return { outs: await roll(news) };
    },
    async read(id: string, props: LocalReceiverRevisionOutputs) {
      const revision = await call(deps, "GET", props.revisionUrl);
      return { id, props: { ...props, revision } };
    },
    // Deleting the resource leaves the receiver as it is: its host stops it.
    async delete() {},
  } as pulumi.dynamic.ResourceProvider;
}

export const localReceiverRevisionProvider = () => completeProvider(createLocalReceiverRevisionProvider());
