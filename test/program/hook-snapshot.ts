/**
 * What a stack's hooks and credentials are, as the program registers them under mocks: every
 * ServiceHook, HookFleet, RotatingSecret and AdoPat by URN, with its inputs (secrets revealed, which
 * ones are secret noted). Recorded once from the release before destinations
 * (fixtures/hooks-before-destinations.json, by fixtures/record-hook-snapshot.ts run in a checkout of
 * that release) and compared with today's program: a stack without `destinations` must register
 * exactly the same resources with exactly the same inputs, i.e. `pulumi up` changes nothing.
 *
 * Deterministic: projects get ids derived from their names, the emulator's origin is replaced by a
 * placeholder, the mocked credentials return fixed values.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { AdoEmulator } from "../../devkit/ado-emulator";
import { azureNativeOutputs, isSecretValue, type RecordedResource } from "../support/pulumi-mocks";
import { effectiveConfig, orgSegment, organizationsOf, stackFile } from "../../devkit/stack-config";

export const SERVICE_HOOK = "pulumi-nodejs:dynamic/hookfleet:ServiceHook";
export const ROTATING_SECRET = "pulumi-nodejs:dynamic/credentials:RotatingSecret";
export const ADO_PAT = "pulumi-nodejs:dynamic/credentials:AdoPat";
export const HOOK_FLEET = "hookfleet:hooks:HookFleet";
const SNAPSHOT_TYPES = [SERVICE_HOOK, ROTATING_SECRET, ADO_PAT, HOOK_FLEET];

/** Projects every emulated organization has: they exercise each stack's include/exclude/list filters. */
export const SNAPSHOT_PROJECTS = [
  "platform-api",
  "platform-web",
  "hookfleet-core",
  "platform-archive",
  "Payments",
  "Identity",
  "Storefront",
  "sandbox-tools",
  "billing-archive",
  "Marketing",
];

/**
 * The stacks (and variants) recorded. `file`: the stack file as that release had it, for a stack whose
 * file changed since on purpose (the sandbox's now subscribes every event type, names its receiver
 * host and lists a product destination): the upgrade question is whether the same file gives the
 * same resources.
 */
export const SNAPSHOT_VARIANTS: {
  label: string;
  stack: string;
  extra: Record<string, string>;
  file?: string;
}[] = [
  { label: "dev", stack: "dev", extra: {} },
  { label: "staging", stack: "staging", extra: {} },
  { label: "prod", stack: "prod", extra: {} },
  { label: "prod+managePat", stack: "prod", extra: { "hookfleet:managePat": "true" } },
  {
    label: "sandbox",
    stack: "sandbox",
    extra: {},
    file: path.join(__dirname, "fixtures", "Pulumi.sandbox-5e21a61.yaml"),
  },
];

/** A fixed GUID per (organization, project name), so URNs are the same in every run. */
export function projectId(org: string, name: string): string {
  const h = createHash("sha256").update(`${org}/${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Every organization any stack file names, for startAdoEmulator with `projects: []`. */
export function snapshotOrganizations(): string[] {
  const orgs = new Set<string>();
  for (const v of SNAPSHOT_VARIANTS)
    for (const o of organizationsOf(stackFile(v.stack, v.file))) orgs.add(orgSegment(o.url));
  return [...orgs].sort();
}

/** Gives each organization of the emulator SNAPSHOT_PROJECTS with their fixed ids. */
export function seedSnapshotProjects(emulator: AdoEmulator): void {
  for (const org of snapshotOrganizations())
    for (const name of SNAPSHOT_PROJECTS) emulator.addProject(name, { org, id: projectId(org, name) });
}

/** The image CI hands a stack with `hookfleet:imagePromoted` (as HOOKFLEET_IMAGE; the same to the program). */
export const PROMOTED_IMAGE = `contosoacr.azurecr.io/hookfleet/receiver@sha256:${"ab".repeat(32)}`;

/**
 * The config a variant's stack has, its organizations pointed at the emulator; a stack that runs
 * the image CI promotes is given one, as its deploy is.
 */
export function snapshotConfig(variant: (typeof SNAPSHOT_VARIANTS)[number], emulator: AdoEmulator) {
  const raw = stackFile(variant.stack, variant.file);
  const orgs = organizationsOf(raw).map((o) => ({ ...o, url: emulator.orgUrl(orgSegment(o.url)) }));
  const config = effectiveConfig({ ...raw, "hookfleet:organizations": orgs });
  if (config["hookfleet:imagePromoted"] === "true" && !config["hookfleet:image"])
    config["hookfleet:image"] = PROMOTED_IMAGE;
  return { ...config, ...variant.extra };
}

/** A fixed value per credential resource, to find in hooks' inputs. */
export const fakeSecret = (name: string) => `alw_FAKE${name.replace(/[^A-Za-z0-9]/g, "")}SECRETVALUE`;

/** The mocked outputs of HookFleet's and the credentials' resources (every stored output present). */
export function snapshotMockOutputs(
  args: pulumi.runtime.MockResourceArgs,
): Record<string, unknown> | undefined {
  if (args.type === ROTATING_SECRET) {
    return {
      current: fakeSecret(args.name),
      currentSha256: "ab".repeat(32),
      previous: "",
      previousSha256: "",
      previousNotAfter: "",
      rotatedAt: "2026-11-22T00:00:00.000Z",
    };
  }
  if (args.type === SERVICE_HOOK) return { status: "enabled", lastTestDelivery: "succeeded", warnings: [] };
  if (args.type === ADO_PAT)
    return {
      token: fakeSecret(args.name),
      validTo: "2027-02-04T00:00:00.000Z",
      nextRotationAt: "2027-01-05T00:00:00.000Z",
      rotatedAt: "2026-11-06T00:00:00.000Z",
      authorizationId: `auth-${args.name}`,
      previousAuthorizationId: "",
      previousNotAfter: "",
      previousValidTo: "",
      pendingRevocations: [],
    };
  return azureNativeOutputs(args);
}

export interface SnapshotEntry {
  urn: string;
  /** Inputs, secrets revealed, the emulator's origin replaced by `http://ado.example`. */
  inputs: Record<string, unknown>;
  /** Top-level inputs that reached the engine as secrets. */
  secretInputs: string[];
}

/** The hook and credential resources of a run, sorted by URN. */
export function hookSnapshot(resources: RecordedResource[], emulatorBase: string): SnapshotEntry[] {
  const swap = (v: unknown): unknown =>
    JSON.parse(
      JSON.stringify(v ?? null)
        .split(emulatorBase)
        .join("http://ado.example"),
    );
  return resources
    .filter((r) => SNAPSHOT_TYPES.includes(r.type))
    .map((r) => ({
      urn: r.urn,
      inputs: sortKeys(swap(r.inputs)) as Record<string, unknown>,
      secretInputs: Object.keys(r.rawInputs)
        .filter((k) => isSecretValue(r.rawInputs[k]))
        .sort(),
    }))
    .sort((a, b) => a.urn.localeCompare(b.urn));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}
