/**
 * A small checker over Microsoft's published Azure DevOps REST specs (Swagger 2.0, copied in
 * ../shared/ado-spec/{hooks,tokens,core}/7.1/): finds the operation a request is for and checks
 * the request against it, the way the REST reference documents it — path, api-version, query
 * parameters (required ones present, enum values, integer/boolean types) and the body against
 * the operation's body schema (required fields, enum values, types, formats, and no property the
 * definition does not have). Responses can be checked against the 200 schema the same way.
 *
 * Written for these three files, not as a general Swagger validator: `$ref` to #/definitions,
 * `allOf`, `additionalProperties`, `enum`, the formats the files use. Two readings are ours and
 * said here: a JSON `null` is accepted for any property (ADO's own examples send null for string
 * fields such as resourceVersion and token, and Swagger 2.0 cannot say "nullable"); and a list
 * answer whose schema is an array is ADO's collection wrapper `{ count, value: [...] }`
 * (VssJsonCollectionWrapper in the same files).
 */
import fs from "node:fs";
import path from "node:path";

/** ../shared/ado-spec beside the repository (CI clones the repo with shared/ next to it). */
export const SPEC_ROOT = path.resolve(__dirname, "../../../../shared/ado-spec");

export type Area = "hooks" | "tokens" | "core";
const SPEC_FILES: Record<Area, string> = {
  hooks: "hooks/7.1/serviceHooks.json",
  tokens: "tokens/7.1/tokens.json",
  core: "core/7.1/core.json",
};

/** The parts of a JSON schema (Swagger 2.0 subset) these files use. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  allOf?: Schema[];
  required?: string[];
}

interface Parameter {
  $ref?: string;
  name: string;
  in: "path" | "query" | "body" | "header";
  required?: boolean;
  type?: string;
  format?: string;
  enum?: unknown[];
  schema?: Schema;
  description?: string;
}

interface Operation {
  operationId: string;
  parameters: Parameter[];
  responses: Record<string, { schema?: Schema }>;
  "x-ms-docs-override-version"?: string;
  "x-ms-examples"?: Record<string, { $ref: string }>;
}

interface SwaggerDoc {
  host: string;
  paths: Record<string, Record<string, Operation>>;
  "x-ms-paths"?: Record<string, Record<string, Operation>>;
  definitions: Record<string, Schema>;
  parameters: Record<string, Parameter>;
}

/** Reads a spec or example file as published: UTF-8 with a byte-order mark. */
export function readSpecJson<T = unknown>(relativePath: string): T {
  const text = fs.readFileSync(path.join(SPEC_ROOT, relativePath), "utf8");
  return JSON.parse(text.replace(/^\uFEFF/, "")) as T;
}

/** An httpExamples file: the request's parameters and the answers by status. */
export interface HttpExample {
  parameters: Record<string, unknown> & { body?: unknown };
  responses: Record<string, { body?: unknown; headers?: Record<string, string> }>;
}

export function readExample(relativePath: string): HttpExample {
  return readSpecJson<HttpExample>(relativePath);
}

/** The 200 (or first) answer body of an example. */
export function exampleBody<T = unknown>(relativePath: string): T {
  const ex = readExample(relativePath);
  const answer = ex.responses["200"] ?? Object.values(ex.responses)[0];
  return structuredClone(answer.body) as T;
}

export interface FoundOperation {
  area: Area;
  operationId: string;
  /** The api-version the operation documents (x-ms-docs-override-version). */
  apiVersion: string;
  /** The path template, e.g. /{organization}/_apis/hooks/subscriptions/{subscriptionId}. */
  template: string;
  pathParams: Record<string, string>;
  operation: Operation;
  doc: SwaggerDoc;
}

export interface CheckedRequest {
  method: string;
  /** The request path with the organization first: /{organization}/_apis/… (no host). */
  path: string;
  query: URLSearchParams;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * The api-version of a request: the query parameter, or the Accept header's
 * `application/json;api-version=7.1` (both documented: MicrosoftDocs azure-devops-docs,
 * integrate/concepts/rest-api-versioning.md; azure-devops-node-api sends the header).
 */
export function apiVersionOf(request: CheckedRequest): string | null {
  const fromQuery = request.query.get("api-version");
  if (fromQuery !== null) return fromQuery;
  const accept = request.headers?.accept;
  const text = Array.isArray(accept) ? accept.join(",") : (accept ?? "");
  return /api-version=([^;,\s]+)/i.exec(text)?.[1] ?? null;
}

export class SpecSet {
  private readonly docs = new Map<Area, SwaggerDoc>();

  constructor(areas: Area[] = ["hooks", "tokens", "core"]) {
    for (const area of areas) this.docs.set(area, readSpecJson<SwaggerDoc>(SPEC_FILES[area]));
  }

  /** Every operation of an area, by operationId. */
  operations(area: Area): Map<string, { template: string; method: string; operation: Operation }> {
    const doc = this.doc(area);
    const out = new Map<string, { template: string; method: string; operation: Operation }>();
    for (const [template, methods] of this.pathEntries(doc)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (method === "parameters") continue;
        out.set(operation.operationId, { template, method: method.toUpperCase(), operation });
      }
    }
    return out;
  }

  doc(area: Area): SwaggerDoc {
    const doc = this.docs.get(area);
    if (!doc) throw new Error(`spec area ${area} not loaded`);
    return doc;
  }

  private pathEntries(doc: SwaggerDoc): [string, Record<string, Operation>][] {
    // x-ms-paths keys end with "?" to tell apart operations on the same path (Pats_List).
    return [...Object.entries(doc.paths), ...Object.entries(doc["x-ms-paths"] ?? {})].map(
      ([k, v]) => [k.replace(/\?.*$/, ""), v] as [string, Record<string, Operation>],
    );
  }

  /**
   * The operation a request is for: same method, the path matching the template segment by
   * segment, and, among operations on the same path (GET pats: Pats_Get and Pats_List), the one
   * whose required query parameters the request has (else the first, for checkRequest to report).
   */
  find(method: string, requestPath: string, query: URLSearchParams): FoundOperation | undefined {
    const segments = requestPath.split("/").filter(Boolean).map(decodeURIComponent);
    const candidates: FoundOperation[] = [];
    for (const [area, doc] of this.docs) {
      for (const [template, methods] of this.pathEntries(doc)) {
        const operation = methods[method.toLowerCase()];
        if (!operation) continue;
        const parts = template.split("/").filter(Boolean);
        if (parts.length !== segments.length) continue;
        const pathParams: Record<string, string> = {};
        const same = parts.every((p, i) => {
          const param = /^\{(.+)\}$/.exec(p);
          if (param) pathParams[param[1]] = segments[i];
          return param ? segments[i] !== "" : p.toLowerCase() === segments[i].toLowerCase();
        });
        if (!same) continue;
        candidates.push({
          area,
          operationId: operation.operationId,
          apiVersion: operation["x-ms-docs-override-version"] ?? "",
          template,
          pathParams,
          operation,
          doc,
        });
      }
    }
    const requiredQuery = (c: FoundOperation) =>
      this.parameters(c).filter((p) => p.in === "query" && p.required && p.name !== "api-version");
    const fitting = candidates.filter((c) => requiredQuery(c).every((p) => query.has(p.name)));
    fitting.sort((a, b) => requiredQuery(b).length - requiredQuery(a).length);
    // None fits: the path's own operation, so that checkRequest names the missing parameter.
    return fitting[0] ?? candidates[0];
  }

  /** The operation's parameters with `$ref`s to #/parameters resolved. */
  parameters(found: Pick<FoundOperation, "operation" | "doc">): Parameter[] {
    return found.operation.parameters.map((p) =>
      p.$ref ? found.doc.parameters[p.$ref.replace("#/parameters/", "")] : p,
    );
  }

  /**
   * Problems of a request against its operation, [] when it conforms. `apiVersion` overrides the
   * documented version (for a call whose version is negotiated by azure-devops-node-api).
   */
  checkRequest(request: CheckedRequest, options: { apiVersion?: string } = {}): string[] {
    const found = this.find(request.method, request.path, request.query);
    if (!found) return [`no operation in the spec for ${request.method} ${request.path}`];
    const problems: string[] = [];
    const where = `${found.operationId}`;
    const params = this.parameters(found);
    const expectedVersion = options.apiVersion ?? found.apiVersion;
    const version = apiVersionOf(request);
    if (version !== expectedVersion)
      problems.push(`${where}: api-version is ${version}, the spec documents ${expectedVersion}`);
    for (const name of new Set(request.query.keys())) {
      const p = params.find((x) => x.in === "query" && x.name === name);
      if (!p) {
        problems.push(`${where}: query parameter "${name}" is not in the spec`);
        continue;
      }
      for (const value of request.query.getAll(name))
        problems.push(...scalarProblems(p, value, `${where}: ?${name}`));
    }
    for (const p of params) {
      if (p.in === "query" && p.name === "api-version") continue; // checked above, query or header
      if (p.in === "query" && p.required && !request.query.has(p.name))
        problems.push(`${where}: required query parameter "${p.name}" is missing`);
      if (p.in === "path" && p.format === "uuid" && !UUID.test(found.pathParams[p.name] ?? ""))
        problems.push(`${where}: path parameter ${p.name} is not a uuid`);
    }
    const bodyParam = params.find((p) => p.in === "body");
    if (bodyParam) {
      if (request.body === undefined) {
        if (bodyParam.required) problems.push(`${where}: the body is required`);
      } else {
        problems.push(...this.checkValue(found.doc, bodyParam.schema ?? {}, request.body, `${where} body`));
      }
    } else if (request.body !== undefined) {
      problems.push(`${where}: sends a body the operation does not take`);
    }
    return problems;
  }

  /** Problems of a 200 answer body against the operation's response schema. */
  checkResponse(found: FoundOperation, body: unknown): string[] {
    const schema = found.operation.responses["200"]?.schema;
    if (!schema) return body === undefined || body === "" ? [] : [`${found.operationId}: answers no body`];
    // A list is ADO's collection wrapper { count, value }.
    if (schema.type === "array" && body && typeof body === "object" && !Array.isArray(body)) {
      const { count, value, ...rest } = body as { count?: unknown; value?: unknown };
      const problems = Object.keys(rest).map((k) => `${found.operationId}: the collection has "${k}"`);
      if (typeof count !== "number") problems.push(`${found.operationId}: the collection has no count`);
      return [...problems, ...this.checkValue(found.doc, schema, value, `${found.operationId} value`)];
    }
    return this.checkValue(found.doc, schema, body, found.operationId);
  }

  /** Problems of a value against a schema of `doc`, each naming where (`body.consumerInputs.url`). */
  checkValue(doc: SwaggerDoc, schema: Schema, value: unknown, where: string): string[] {
    const s = resolve(doc, schema);
    if (value === null) return []; // see the module comment
    if (s.enum) {
      if (!s.enum.includes(value))
        return [`${where}: ${JSON.stringify(value)} is not one of ${s.enum.join(", ")}`];
      return [];
    }
    const type = s.type ?? (s.properties || s.additionalProperties ? "object" : undefined);
    switch (type) {
      case "object": {
        if (typeof value !== "object" || Array.isArray(value)) return [`${where}: is not an object`];
        const problems: string[] = [];
        const o = value as Record<string, unknown>;
        for (const r of s.required ?? [])
          if (!(r in o)) problems.push(`${where}: required "${r}" is missing`);
        for (const [k, v] of Object.entries(o)) {
          const prop = s.properties?.[k];
          if (prop) problems.push(...this.checkValue(doc, prop, v, `${where}.${k}`));
          else if (s.additionalProperties && typeof s.additionalProperties === "object")
            problems.push(...this.checkValue(doc, s.additionalProperties, v, `${where}.${k}`));
          // `type: object` with no properties (Event.resource) is any object.
          else if (s.properties && s.additionalProperties !== true)
            problems.push(`${where}: "${k}" is not a field of the spec`);
        }
        return problems;
      }
      case "array":
        if (!Array.isArray(value)) return [`${where}: is not an array`];
        return value.flatMap((v, i) => this.checkValue(doc, s.items ?? {}, v, `${where}[${i}]`));
      case "string":
        if (typeof value !== "string") return [`${where}: ${JSON.stringify(value)} is not a string`];
        return formatProblems(s.format, value, where);
      case "integer":
        return Number.isInteger(value) ? [] : [`${where}: ${JSON.stringify(value)} is not an integer`];
      case "number":
        return typeof value === "number" ? [] : [`${where}: ${JSON.stringify(value)} is not a number`];
      case "boolean":
        return typeof value === "boolean" ? [] : [`${where}: ${JSON.stringify(value)} is not a boolean`];
      default:
        return [];
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO 8601 date-time as ADO writes it (any number of fractional digits, Z or an offset). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function formatProblems(format: string | undefined, value: string, where: string): string[] {
  if (format === "uuid" && !UUID.test(value)) return [`${where}: "${value}" is not a uuid`];
  if (format === "date-time" && !DATE_TIME.test(value)) return [`${where}: "${value}" is not a date-time`];
  return [];
}

/** A query or path value (always text on the wire) against its parameter's type, format and enum. */
function scalarProblems(p: Parameter, value: string, where: string): string[] {
  if (p.enum && !p.enum.includes(value)) return [`${where}=${value} is not one of ${p.enum.join(", ")}`];
  if (p.type === "integer" && !/^-?\d+$/.test(value)) return [`${where}=${value} is not an integer`];
  if (p.type === "boolean" && !/^(true|false)$/i.test(value)) return [`${where}=${value} is not a boolean`];
  if (p.type === "string") return formatProblems(p.format, value, where);
  return [];
}

/** Follows `$ref`s and merges `allOf` parts into one schema. */
function resolve(doc: SwaggerDoc, schema: Schema): Schema {
  let s = schema;
  for (let depth = 0; s.$ref; depth++) {
    if (depth > 20) throw new Error(`$ref loop at ${s.$ref}`);
    s = doc.definitions[s.$ref.replace("#/definitions/", "")] ?? {};
  }
  if (!s.allOf) return s;
  const parts = s.allOf.map((p) => resolve(doc, p));
  return {
    ...s,
    allOf: undefined,
    type: s.type ?? parts.find((p) => p.type)?.type,
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {}), s.properties ?? {}),
    required: [...parts.flatMap((p) => p.required ?? []), ...(s.required ?? [])],
  };
}
