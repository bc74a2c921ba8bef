/**
 * Recognises what a delivery carries: one ADO event, an Event Grid array, a CloudEvent or a
 * CloudEvents batch. Each problem is reported in words a sender can act on.
 */

export type Json = Record<string, unknown>;

export type Delivery =
  | { kind: "ado"; event: Json }
  | { kind: "eventgrid"; events: Json[] }
  | { kind: "validation"; validationCode: string };

export class BadDeliveryError extends Error {
  readonly statusCode = 400;
}

const MAX_ID_LENGTH = 200;
const MAX_EVENTS = 5000;
export const VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent";

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A surrogate code unit without its partner: not a Unicode character, so not a valid id. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Event ids are compared as exact strings (no case folding, no Unicode normalisation): two ids are
 * the same event only when they are the same sequence of characters. A string that is not valid
 * Unicode is refused: a lone surrogate (`\ud800`, sent as a JSON escape) has no UTF-8 form, and
 * hashing would turn it into U+FFFD and merge it with other ids.
 */
function checkId(v: unknown, where: string): void {
  if (typeof v !== "string" || v.trim() === "")
    throw new BadDeliveryError(
      `${where} is missing \`id\` (the event's unique id, used to recognise retries)`,
    );
  // eslint-disable-next-line no-control-regex
  if (v.length > MAX_ID_LENGTH || /[\u0000-\u001f]/.test(v))
    throw new BadDeliveryError(
      `${where} has an \`id\` longer than ${MAX_ID_LENGTH} characters or with control characters`,
    );
  if (LONE_SURROGATE.test(v))
    throw new BadDeliveryError(
      `${where} has an \`id\` that is not valid Unicode (a lone UTF-16 surrogate such as \\ud800)`,
    );
}

function checkString(o: Json, key: string, where: string, what: string): void {
  if (typeof o[key] !== "string" || (o[key] as string).trim() === "")
    throw new BadDeliveryError(`${where} is missing \`${key}\` (${what})`);
}

function gridEvent(e: unknown, where: string): Json {
  if (!isObject(e)) throw new BadDeliveryError(`${where} must be a JSON object`);
  if (e.specversion !== undefined) {
    if (e.specversion !== "1.0")
      throw new BadDeliveryError(
        `${where} has specversion ${JSON.stringify(e.specversion)}; only CloudEvents 1.0 is accepted`,
      );
    checkId(e.id, where);
    checkString(e, "source", where, "the CloudEvents source");
    checkString(e, "type", where, "the CloudEvents type");
    return e;
  }
  checkId(e.id, where);
  checkString(e, "eventType", where, "the Event Grid event type");
  checkString(e, "subject", where, "the Event Grid subject");
  checkString(e, "eventTime", where, "the Event Grid event time");
  return e;
}

/** Classifies a parsed JSON body; throws BadDeliveryError naming what is missing. */
export function classifyDelivery(
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
): Delivery {
  if (Array.isArray(body)) {
    if (body.length === 0)
      throw new BadDeliveryError("body is an empty array: an Event Grid delivery carries at least one event");
    if (body.length > MAX_EVENTS) throw new BadDeliveryError(`body carries more than ${MAX_EVENTS} events`);
    const validationHeader = headers["aeg-event-type"] === "SubscriptionValidation";
    const validationAt = body.findIndex((e) => isObject(e) && e.eventType === VALIDATION_EVENT);
    if (validationHeader || validationAt >= 0) {
      // Event Grid sends the handshake as an array of exactly one validation event, never mixed
      // with events (../shared/design/pulumi-and-azure-notes.md, Event Grid delivery): anything
      // else is refused whole, so no event is answered as a handshake and dropped.
      if (body.length !== 1)
        throw new BadDeliveryError(
          `a subscription validation event must be delivered alone; this array carries ${body.length} events` +
            (validationAt >= 0 ? ` with the validation event at [${validationAt}]` : ""),
        );
      const only = body[0] as Json;
      if (validationAt !== 0)
        throw new BadDeliveryError(
          `aeg-event-type is SubscriptionValidation but event [0] is not a ${VALIDATION_EVENT}`,
        );
      const code = isObject(only.data) ? only.data.validationCode : undefined;
      if (typeof code !== "string" || code === "")
        throw new BadDeliveryError("subscription validation event is missing `data.validationCode`");
      return { kind: "validation", validationCode: code };
    }
    return { kind: "eventgrid", events: body.map((e, i) => gridEvent(e, `event [${i}]`)) };
  }
  if (!isObject(body))
    throw new BadDeliveryError("body must be a JSON object (an ADO event) or an array (Event Grid events)");
  if (body.specversion !== undefined) return { kind: "eventgrid", events: [gridEvent(body, "CloudEvent")] };
  checkId(body.id, "ADO event");
  checkString(body, "eventType", "ADO event", "for example git.push");
  // A hook whose "Resource details to send" is None (the Web Hooks consumer's resourceDetailsToSend
  // input, ../shared/ado-spec/hooks/7.1/httpExamples/consumers/GET__hooks_consumers.json; hooks
  // expose it, components/hooks/mapping.ts) may get `resource` null or absent: what ADO sends then
  // is unconfirmed (our emulator sends {}). Storing and recognising a retry need only id and
  // eventType, and a 400 counts as an enduring failure for ADO (../shared/design/
  // azure-devops-facts.md): a missing or null resource is accepted, any other non-object refused.
  if (body.resource !== undefined && body.resource !== null && !isObject(body.resource))
    throw new BadDeliveryError(
      "ADO event has a `resource` that is not an object (the object the event is about)",
    );
  return { kind: "ado", event: body };
}

export type JsonProblem = "too-deep" | "prototype-key";

/**
 * One walk over a parsed body for everything JSON.parse does not check: nesting deeper than `limit`
 * and the keys secure-json-parse rejects (an own `__proto__`, or a `constructor` object with an
 * own `prototype`). Iterative, so deep input cannot overflow the stack. It replaces
 * secure-json-parse, whose two regex scans of the text plus a walk of its own came on top of this
 * walk on every delivery.
 */
export function inspectJson(value: unknown, limit: number): JsonProblem | undefined {
  // Two parallel stacks instead of [value, depth] tuples: this runs on every delivery.
  const values: unknown[] = [value];
  const depths: number[] = [1];
  while (values.length) {
    const v = values.pop();
    const depth = depths.pop() as number;
    if (typeof v !== "object" || v === null) continue;
    if (depth > limit) return "too-deep";
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c: unknown = v[i];
        if (typeof c === "object" && c !== null) {
          values.push(c);
          depths.push(depth + 1);
        }
      }
    } else {
      // JSON.parse makes every key, `__proto__` included, an own enumerable property.
      for (const k in v) {
        const c = (v as Record<string, unknown>)[k];
        if (k === "__proto__") return "prototype-key";
        if (typeof c === "object" && c !== null) {
          if (k === "constructor" && Object.hasOwn(c, "prototype")) return "prototype-key";
          values.push(c);
          depths.push(depth + 1);
        }
      }
    }
  }
  return undefined;
}
