/**
 * From a delivered event to the stored message document: deterministic id, lean projection,
 * TTL from retention. Pure functions.
 */
import { eventProjectId } from "../ado/wire";
import type { SystemSetting } from "./settings";
import { sha256 } from "./tokens";

export type MessageSource = "ado" | "eventgrid";

export interface Actor {
  name?: string;
  uniqueName?: string;
  id?: string;
}

export interface Target {
  /** repository, pullRequest, workItem, build, changeset, release, deployment, pipelineRun, stage, … */
  kind: string;
  id?: string;
  name?: string;
  url?: string;
  /** Extra context: branch, status, repository of a pull request, pipeline of a run, … */
  detail?: string;
}

export interface ProjectRef {
  id?: string;
  name?: string;
}

/** The ~1 KB metadata a lean system keeps instead of the payload. */
export interface Projection {
  eventType: string;
  actor?: Actor;
  target?: Target;
  summary?: string;
  project?: ProjectRef;
}

export interface MessageDocument {
  id: string;
  systemId: string;
  sourceEventId: string;
  type: string;
  source: MessageSource;
  receivedAt: string;
  createdDate?: string;
  actor?: Actor;
  target?: Target;
  summary?: string;
  project?: ProjectRef;
  body?: unknown;
  projection?: Projection;
  ttl: number;
}

/** Upper bound of a lean projection's JSON size. */
export const PROJECTION_MAX_BYTES = 1024;

/**
 * Deterministic message id from (systemId, sourceEventId): base64url SHA-256, 43 characters, never
 * a '/' or '\\' (Cosmos forbids them in ids). A retry of the same event maps to the same id, so
 * the second create fails with 409 and the receiver answers "duplicate".
 */
export function messageId(systemId: string, sourceEventId: string): string {
  // Length-prefixed so that no two (systemId, sourceEventId) pairs hash the same input. Distinct
  // well-formed strings have distinct UTF-8 encodings; lone surrogates (which UTF-8 turns into
  // U+FFFD) are refused before this (app/events.ts), so ids are compared as exact strings.
  return sha256(`${systemId.length}:${systemId}\n${sourceEventId}`, "base64url");
}

/** The shape of every id messageId produces (the only ids the store is ever asked for). */
const MESSAGE_ID = /^[A-Za-z0-9_-]{43}$/;

export function isMessageId(id: unknown): id is string {
  return typeof id === "string" && MESSAGE_ID.test(id);
}

/**
 * The most a stored message may weigh, as the UTF-8 length of its JSON. Cosmos DB refuses an item
 * over 2 MB, "UTF-8 length of JSON representation" (learn.microsoft.com/azure/cosmos-db/concepts-limits,
 * per-item limits; ../shared/design/pulumi-and-azure-notes.md); the embedded store does not enforce
 * it. 2,000,000 is the smaller reading of 2 MB, less 50,000 bytes for the system properties Cosmos
 * DB adds (_rid, _self, _etag, _attachments, _ts: about 200 bytes).
 */
export const MAX_DOCUMENT_BYTES = 1_950_000;

/**
 * How much larger parsed JSON can print than it was sent: JSON.stringify never lengthens a string
 * (every character it escapes had to arrive escaped at least as long), drops whitespace and keeps
 * literals; only numbers grow, at most from `1e20` (4 bytes) to its 21 digits.
 */
const MAX_JSON_GROWTH = 21 / 4;
/** What a message adds around the payload it keeps (ids, times, actor, target, summary, projection ≤ 1 KB). */
const DOCUMENT_OVERHEAD_BYTES = 16 * 1024;

/**
 * True when no message built from a body of `bodyBytes` can exceed MAX_DOCUMENT_BYTES, so none needs
 * measuring: every body up to ≈ 360 KB, which keeps the measurement off the common path.
 */
export function documentsFitUnmeasured(bodyBytes: number): boolean {
  return bodyBytes * MAX_JSON_GROWTH + DOCUMENT_OVERHEAD_BYTES <= MAX_DOCUMENT_BYTES;
}

/** The size Cosmos DB counts for a document (without the few system properties it adds). */
export function documentBytes(doc: MessageDocument): number {
  return Buffer.byteLength(JSON.stringify(doc));
}

export function ttlSeconds(retentionDays: number): number {
  return retentionDays * 86400;
}

/**
 * The largest `ttl` Cosmos DB accepts: 2,147,483,647 seconds, about 24,855 days
 * (learn.microsoft.com/azure/cosmos-db/time-to-live).
 */
export const MAX_TTL_SECONDS = 2 ** 31 - 1;
/** The longest retention whose ttl Cosmos DB accepts: 24,855 days. */
export const MAX_RETENTION_DAYS = Math.floor(MAX_TTL_SECONDS / ttlSeconds(1));

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown, max = 200): string | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v !== "string" || v === "") return undefined;
  return v.length > max ? v.slice(0, max - 1) + "…" : v;
}

function at(root: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (typeof key === "number") cur = Array.isArray(cur) ? cur[key] : undefined;
    else cur = obj(cur)?.[key];
    if (cur === undefined) return undefined;
  }
  return cur;
}

function identity(v: unknown): Actor | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const a: Actor = { name: str(o.displayName, 100), uniqueName: str(o.uniqueName, 100), id: str(o.id, 64) };
  return a.name || a.uniqueName || a.id ? a : undefined;
}

/** Work item identity fields are strings such as `Jamal Hartnett <jamal@fabrikam.com>`. */
function identityString(v: unknown): Actor | undefined {
  if (typeof v !== "string" || v === "") return identity(v);
  const m = /^(.*?)\s*<([^>]+)>$/.exec(v);
  return m ? { name: str(m[1], 100), uniqueName: str(m[2], 100) } : { name: str(v, 100) };
}

function branch(ref: unknown): string | undefined {
  return typeof ref === "string" ? str(ref.replace(/^refs\/heads\//, ""), 100) : undefined;
}

interface Parts {
  actor?: Actor;
  target?: Target;
  projectName?: string;
}

function pullRequestParts(pr: Obj | undefined, actor: Actor | undefined): Parts {
  return {
    actor,
    target: {
      kind: "pullRequest",
      id: str(pr?.pullRequestId, 20),
      name: str(pr?.title, 150),
      url: str(at(pr, "_links", "web", "href"), 250),
      detail: [str(at(pr, "repository", "name"), 80), branch(pr?.targetRefName), str(pr?.status, 20)]
        .filter(Boolean)
        .join(" · "),
    },
    projectName: str(at(pr, "repository", "project", "name"), 100),
  };
}

function workItemParts(resource: Obj, actor: Actor | undefined): Parts {
  const fields = obj(resource.fields) ?? {};
  const revisionFields = obj(at(resource, "revision", "fields")) ?? {};
  const field = (name: string) => (fields[name] !== undefined ? fields[name] : revisionFields[name]);
  const newValue = (v: unknown) => (obj(v) && "newValue" in (v as Obj) ? (v as Obj).newValue : v);
  const id = resource.workItemId ?? resource.id;
  return {
    actor,
    target: {
      kind: "workItem",
      id: str(id, 20),
      name: str(newValue(field("System.Title")), 150),
      url: str(at(resource, "_links", "html", "href"), 250),
      detail: [str(newValue(field("System.WorkItemType")), 40), str(newValue(field("System.State")), 40)]
        .filter(Boolean)
        .join(" · "),
    },
    projectName: str(newValue(field("System.TeamProject")), 100),
  };
}

function adoParts(eventType: string, resource: Obj): Parts {
  switch (eventType) {
    case "git.push": {
      const repo = obj(resource.repository);
      return {
        actor: identity(resource.pushedBy),
        target: {
          kind: "repository",
          id: str(repo?.id, 64),
          name: str(repo?.name, 100),
          url: str(repo?.webUrl ?? repo?.remoteUrl, 250),
          detail: branch(at(resource, "refUpdates", 0, "name")),
        },
        projectName: str(at(repo, "project", "name"), 100),
      };
    }
    case "git.pullrequest.created":
    case "git.pullrequest.updated":
      return pullRequestParts(resource, identity(resource.createdBy));
    case "git.pullrequest.merged":
      return pullRequestParts(resource, identity(resource.closedBy) ?? identity(resource.createdBy));
    case "ms.vss-code.git-pullrequest-comment-event":
      return pullRequestParts(obj(resource.pullRequest), identity(at(resource, "comment", "author")));
    case "workitem.updated":
      return workItemParts(
        resource,
        identity(resource.revisedBy) ??
          identityString(at(resource, "fields", "System.ChangedBy", "newValue")),
      );
    case "workitem.created":
    case "workitem.deleted":
    case "workitem.restored":
    case "workitem.commented":
      return workItemParts(resource, identityString(at(resource, "fields", "System.ChangedBy")));
    case "build.complete":
      return {
        actor: identity(at(resource, "requests", 0, "requestedFor")) ?? identity(resource.lastChangedBy),
        target: {
          kind: "build",
          id: str(resource.id, 20),
          name: str(resource.buildNumber, 150),
          url: str(resource.url, 250),
          detail: [str(at(resource, "definition", "name"), 100), str(resource.result ?? resource.status, 30)]
            .filter(Boolean)
            .join(" · "),
        },
        projectName: str(at(resource, "project", "name"), 100),
      };
    case "tfvc.checkin":
      return {
        actor: identity(resource.checkedInBy) ?? identity(resource.author),
        target: {
          kind: "changeset",
          id: str(resource.changesetId, 20),
          name: str(resource.comment, 150),
          url: str(resource.url, 250),
        },
      };
    case "ms.vss-release.deployment-completed-event":
    case "ms.vss-release.deployment-started-event": {
      const env = obj(resource.environment);
      const releaseName = str(at(resource, "release", "name") ?? at(env, "release", "name"), 100);
      return {
        actor:
          identity(at(resource, "deployment", "requestedBy")) ??
          identity(at(env, "deploySteps", 0, "requestedBy")) ??
          identity(at(resource, "release", "createdBy")),
        target: {
          kind: "deployment",
          id: str(at(resource, "release", "id") ?? env?.releaseId, 20),
          name: [releaseName, str(env?.name, 60)].filter(Boolean).join(" → ") || undefined,
          url: str(at(resource, "release", "_links", "web", "href"), 250),
          detail: [str(at(env, "releaseDefinition", "name"), 100), str(env?.status, 30)]
            .filter(Boolean)
            .join(" · "),
        },
        projectName: str(at(resource, "project", "name"), 100),
      };
    }
    case "ms.vss-release.release-created-event": {
      const rel = obj(resource.release);
      return {
        actor: identity(rel?.createdBy),
        target: {
          kind: "release",
          id: str(rel?.id, 20),
          name: str(rel?.name, 100),
          url: str(at(rel, "_links", "web", "href"), 250),
          detail: str(at(rel, "releaseDefinition", "name"), 100),
        },
        projectName: str(at(resource, "project", "name") ?? at(rel, "projectReference", "name"), 100),
      };
    }
    case "ms.vss-pipelines.run-state-changed-event": {
      const run = obj(resource.run);
      return {
        target: {
          kind: "pipelineRun",
          id: str(run?.id ?? resource.runId, 20),
          name: [
            str(at(resource, "pipeline", "name") ?? at(run, "pipeline", "name"), 100),
            str(run?.name, 60),
          ]
            .filter(Boolean)
            .join(" "),
          url: str(at(run, "_links", "web", "href"), 250),
          detail: [str(run?.state, 20), str(run?.result, 20)].filter(Boolean).join(" · "),
        },
      };
    }
    case "ms.vss-pipelines.stage-state-changed-event": {
      const stage = obj(resource.stage);
      return {
        target: {
          kind: "stage",
          id: str(stage?.id, 64),
          name: str(stage?.name ?? resource.stageName, 100),
          url: str(at(stage, "_links", "web", "href"), 250),
          detail: [
            str(at(resource, "pipeline", "name"), 80),
            str(at(resource, "run", "name"), 40),
            str(stage?.state, 20),
            str(stage?.result, 20),
          ]
            .filter(Boolean)
            .join(" · "),
        },
      };
    }
    default:
      // An event type outside the catalogue (or ADO's test delivery): keep what any resource has.
      return {
        target: {
          kind: str(eventType, 80) ?? "event",
          id: str(resource.id, 64),
          url: str(resource.url, 250),
        },
      };
  }
}

function dropEmpty<T extends object>(o: T | undefined): T | undefined {
  if (!o) return undefined;
  // A plain loop: entries/filter/fromEntries allocated three arrays per field group per delivery.
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const k in o) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined && v !== "") {
      out[k] = v;
      kept++;
    }
  }
  return kept ? (out as T) : undefined;
}

/** Keeps a projection within PROJECTION_MAX_BYTES by shortening the long text fields. */
function fit(p: Projection): Projection {
  let out = p;
  const size = () => Buffer.byteLength(JSON.stringify(out));
  const shorten = (s: string | undefined, n: number) => (s && s.length > n ? s.slice(0, n - 1) + "…" : s);
  for (const limit of [200, 120, 60, 20]) {
    if (size() <= PROJECTION_MAX_BYTES) return out;
    out = {
      ...out,
      summary: shorten(out.summary, limit),
      target: out.target && {
        ...out.target,
        url: shorten(out.target.url, limit),
        name: shorten(out.target.name, limit),
        detail: shorten(out.target.detail, limit),
      },
    };
  }
  if (size() <= PROJECTION_MAX_BYTES) return out;
  return { eventType: out.eventType.slice(0, 200), summary: shorten(out.summary, 100) };
}

/** Lean projection of an ADO event: event type, actor, target, summary, project (≤ 1 KB). */
export function projectAdoEvent(event: Obj): Projection {
  const eventType = str(event.eventType, 200) ?? "unknown";
  const resource = obj(event.resource) ?? {};
  const parts = adoParts(eventType, resource);
  // Release (rm) events carry their project in resource.project, not in resourceContainers.
  const projectId = str(eventProjectId(event), 64);
  return fit({
    eventType,
    actor: dropEmpty(parts.actor),
    target: dropEmpty(parts.target),
    summary:
      typeof at(event, "message", "text") === "string" ? str(at(event, "message", "text"), 300) : undefined,
    project: dropEmpty({ id: projectId, name: parts.projectName }),
  });
}

/** Lean projection of an Event Grid / CloudEvents event. */
export function projectGridEvent(event: Obj): Projection {
  const eventType = str(event.eventType ?? event.type, 200) ?? "unknown";
  const subject = str(event.subject, 250);
  const topic = str(event.topic ?? event.source, 250);
  return fit({
    eventType,
    target: dropEmpty({ kind: "subject", name: subject, detail: topic }),
    summary: str([eventType, subject].filter(Boolean).join(" "), 300),
  });
}

/** The document stored for one event. Full systems keep the payload as `body`; lean ones only the projection. */
export function buildMessage(
  system: SystemSetting,
  source: MessageSource,
  event: Obj,
  receivedAt: Date,
): MessageDocument {
  const sourceEventId = String(event.id);
  const projection = source === "ado" ? projectAdoEvent(event) : projectGridEvent(event);
  const createdDate = str(source === "ado" ? event.createdDate : (event.eventTime ?? event.time), 40);
  // `ttl` is set below, after the optional fields, to keep the stored key order.
  const doc = {
    id: messageId(system.id, sourceEventId),
    systemId: system.id,
    sourceEventId,
    type: projection.eventType,
    source,
    receivedAt: receivedAt.toISOString(),
  } as MessageDocument;
  // Assigned one by one (not spread from temporary objects), in the same order as before.
  if (createdDate) doc.createdDate = createdDate;
  if (projection.actor) doc.actor = projection.actor;
  if (projection.target) doc.target = projection.target;
  if (projection.summary) doc.summary = projection.summary;
  if (projection.project) doc.project = projection.project;
  doc.ttl = ttlSeconds(system.retentionDays);
  if (system.storageMode === "full") doc.body = event;
  else doc.projection = projection;
  return doc;
}
