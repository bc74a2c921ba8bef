/**
 * The emulator's control surface: what a person or a script does to the emulated ADO from outside,
 * over HTTP under a reserved prefix (organization names start with a letter or digit, so
 * `/_emulator` never collides with one). Each route calls the emulator's public API (index.ts):
 *
 *   GET    /_emulator                              organizations, projects, clock, failure rules, routes
 *   POST   /_emulator/events                       raise events: {eventType: <type>|"all", org?, project?, count?, wait?}
 *   GET    /_emulator/delivery-failures            the failure rules
 *   POST   /_emulator/delivery-failures            {url, status, org?, project?}: deliveries to url fail with status
 *   DELETE /_emulator/delivery-failures[/{id}]     remove one rule, or all
 *   GET    /_emulator/clock                        {timeScale}
 *   PUT    /_emulator/clock                        {timeScale}
 *   POST   /_emulator/clock/advance                {seconds} or {duration: "36h"}: run the retries due meanwhile
 *
 * Every route takes the emulator's PAT (Basic, any user name) or its user token (Bearer), like the
 * org APIs. `npm run emulator -- --emulator <url> --raise …` is a client of these routes
 * (scripts/emulator.ts); docs/ado.md documents them.
 */
import { EVENT_CATALOGUE, eventTypeInfo } from "../../ado/events";
import type { AdoEvent } from "../../ado/types";
import { sampleEvent } from "../ado-events";
import type { AdoEmulator, DeliveryReport, DeliveryFailureRule } from "./index";

export const CONTROL_PREFIX = "/_emulator";

/** Longest clock jump one call makes: a week of ADO time (probation lasts 36 hours). */
export const MAX_ADVANCE_SECONDS = 7 * 24 * 3600;

export interface ControlAnswer {
  status: number;
  body: unknown;
}

/** One raised event and what happened to it in the first delivery round. */
export interface RaisedEvent {
  id: string;
  eventType: string;
  org: string;
  project: string;
  /** Subscriptions the event matched. */
  matched: number;
  delivered: number;
  failed: number;
  queued: number;
  notDelivered: number;
}

const ROUTES = [
  "GET /_emulator",
  "POST /_emulator/events {eventType: <catalogue type> | 'all', org?, project?, count?, wait?}",
  "GET /_emulator/delivery-failures",
  "POST /_emulator/delivery-failures {url, status, org?, project?}",
  "DELETE /_emulator/delivery-failures[/{id}]",
  "GET /_emulator/clock",
  "PUT /_emulator/clock {timeScale}",
  "POST /_emulator/clock/advance {seconds} | {duration: '36h'}",
];

class BadRequest extends Error {}

/** "36h", "20m", "90s", "2d", "1h30m" or plain seconds ("3600") → seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const unit: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed)
    throw new BadRequest(`"${text}" is not a duration such as 36h, 20m, 90s, 1h30m or a number of seconds`);
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * unit[u], 0);
}

function record(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BadRequest("the body must be a JSON object");
  return body as Record<string, unknown>;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new BadRequest(`${key} must be a string`);
  return v;
}

function summary(report: DeliveryReport, project: string): RaisedEvent {
  const count = (outcome: string) => report.deliveries.filter((d) => d.outcome === outcome).length;
  return {
    id: report.event.id,
    eventType: report.event.eventType,
    org: report.org,
    project,
    matched: report.matched,
    delivered: count("delivered"),
    failed: count("failed"),
    queued: count("queued"),
    notDelivered: count("notDelivered"),
  };
}

async function raise(emulator: AdoEmulator, body: Record<string, unknown>): Promise<ControlAnswer> {
  const eventType = optionalString(body, "eventType");
  const types =
    eventType === "all"
      ? EVENT_CATALOGUE.map((e) => e.eventType)
      : eventType && eventTypeInfo(eventType)
        ? [eventType]
        : undefined;
  if (!types)
    throw new BadRequest(
      `eventType must be "all" or one of the catalogue's types: ${EVENT_CATALOGUE.map((e) => e.eventType).join(", ")}`,
    );
  const orgName = optionalString(body, "org");
  if (orgName !== undefined && !emulator.orgs.some((o) => o.toLowerCase() === orgName.toLowerCase()))
    throw new BadRequest(`no organization "${orgName}" (there are: ${emulator.orgs.join(", ")})`);
  const org = orgName ?? emulator.orgs[0];
  const projects = emulator.projects(org);
  const wanted = optionalString(body, "project");
  const project = wanted
    ? projects.find((p) => p.id === wanted || p.name.toLowerCase() === wanted.toLowerCase())
    : projects.find((p) => p.state === "wellFormed");
  if (!project)
    throw new BadRequest(
      `no project "${wanted ?? ""}" in ${org} (there are: ${projects.map((p) => p.name).join(", ")})`,
    );
  const count = body.count === undefined ? 1 : Number(body.count);
  if (!Number.isInteger(count) || count < 1 || count > 100)
    throw new BadRequest("count must be a whole number from 1 to 100");
  if (body.wait !== undefined && typeof body.wait !== "boolean")
    throw new BadRequest("wait must be true or false");

  const events: AdoEvent[] = [];
  for (let i = 0; i < count; i++)
    for (const type of types)
      events.push(sampleEvent(type, { org, project: { id: project.id, name: project.name } }));
  const deliveries = events.map((e) => emulator.emit(e, { org }));
  if (body.wait === false) {
    // Delivery goes on in the background (a failing receiver can hold a first round for minutes).
    for (const d of deliveries) d.catch(() => undefined);
    return {
      status: 202,
      body: { events: events.map((e) => ({ id: e.id, eventType: e.eventType, org, project: project.name })) },
    };
  }
  const reports = await Promise.all(deliveries);
  return { status: 200, body: { events: reports.map((r) => summary(r, project.name)) } };
}

function clockState(emulator: AdoEmulator) {
  return { timeScale: emulator.timeScale };
}

/** Answers one control request (`path` starts after the prefix, e.g. "/events"). */
export async function handleControlRequest(
  emulator: AdoEmulator,
  method: string,
  path: string,
  body: unknown,
): Promise<ControlAnswer> {
  try {
    const parts = path.split("/").filter(Boolean);
    const [area, sub] = parts;
    if (!area && method === "GET") {
      return {
        status: 200,
        body: {
          orgs: emulator.orgs.map((name) => ({
            name,
            url: emulator.orgUrl(name),
            projects: emulator.projects(name).map((p) => ({ id: p.id, name: p.name, state: p.state })),
          })),
          clock: clockState(emulator),
          deliveryFailures: emulator.deliveryFailures(),
          eventTypes: EVENT_CATALOGUE.map((e) => e.eventType),
          routes: ROUTES,
        },
      };
    }
    if (area === "events" && !sub && method === "POST") return await raise(emulator, record(body));
    if (area === "delivery-failures") {
      if (method === "GET" && !sub) return { status: 200, body: { value: emulator.deliveryFailures() } };
      if (method === "POST" && !sub) {
        const b = record(body);
        const rule: DeliveryFailureRule = {
          url: b.url as string,
          status: typeof b.status === "string" ? Number(b.status) : (b.status as number),
          org: optionalString(b, "org"),
          project: optionalString(b, "project"),
        };
        try {
          return { status: 201, body: emulator.failDeliveries(rule) };
        } catch (err) {
          throw new BadRequest((err as Error).message);
        }
      }
      if (method === "DELETE") {
        const removed = emulator.clearDeliveryFailures(sub);
        if (sub && removed === 0) return notFound(`no delivery failure rule ${sub}`);
        return { status: 200, body: { removed } };
      }
    }
    if (area === "clock") {
      if (method === "GET" && !sub) return { status: 200, body: clockState(emulator) };
      if (method === "PUT" && !sub) {
        const scale = Number(record(body).timeScale);
        if (!(scale > 0) || !Number.isFinite(scale)) throw new BadRequest("timeScale must be a number > 0");
        emulator.setTimeScale(scale);
        return { status: 200, body: clockState(emulator) };
      }
      if (method === "POST" && sub === "advance") {
        const b = record(body);
        const seconds =
          typeof b.duration === "string"
            ? parseDuration(b.duration)
            : typeof b.seconds === "number"
              ? b.seconds
              : NaN;
        if (!(seconds >= 0) || seconds > MAX_ADVANCE_SECONDS)
          throw new BadRequest(
            `give {seconds: n} or {duration: "36h"}, at most ${MAX_ADVANCE_SECONDS} s (a week)`,
          );
        return { status: 200, body: await emulator.advanceClock(seconds) };
      }
    }
    return notFound(`no control route ${method} ${CONTROL_PREFIX}${path}; routes: ${ROUTES.join("; ")}`);
  } catch (err) {
    if (err instanceof BadRequest)
      return { status: 400, body: { error: "bad-request", message: err.message } };
    throw err;
  }
}

function notFound(message: string): ControlAnswer {
  return { status: 404, body: { error: "not-found", message } };
}
