/**
 * What a delivery body must be before it is parsed: JSON text in UTF-8 (RFC 8259 §8.1: JSON
 * exchanged between systems "MUST be encoded using UTF-8"), sent without a content coding. Anything
 * else is refused, never guessed at: a body read in the wrong charset or still compressed would be
 * stored as something the sender did not send.
 */
import { isUtf8 } from "node:buffer";
import { BadDeliveryError } from "./events";

/** 415: a charset or content coding this service does not read. Nothing is stored. */
export class UnsupportedBodyError extends Error {
  readonly statusCode = 415;
}

/** The `charset` parameter of a Content-Type header (unquoted, lower-case), if any. */
function charsetOf(contentType: string): string | undefined {
  if (!contentType.includes(";")) return undefined;
  for (const param of contentType.split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    return param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
  }
  return undefined;
}

/**
 * Why the headers announce a body this service cannot read, or undefined. Checked before the body
 * is read. Content-Encoding: only `identity` (RFC 9110 §8.4.1; an unsupported coding is a 415,
 * §15.5.16). Content-Type charset: absent or UTF-8.
 */
export function unsupportedBodyProblem(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const encoding = headers["content-encoding"];
  if (encoding !== undefined) {
    const codings = String(encoding)
      .split(",")
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== "" && c !== "identity");
    if (codings.length)
      return `Content-Encoding ${codings.join(", ")} is not supported: send the body uncompressed`;
  }
  const contentType = headers["content-type"];
  const charset = typeof contentType === "string" ? charsetOf(contentType) : undefined;
  if (charset !== undefined && charset !== "utf-8")
    return `charset ${charset} is not supported: JSON must be sent in UTF-8 (RFC 8259)`;
  return undefined;
}

const BOM = [0xef, 0xbb, 0xbf];

/**
 * The body as text: well-formed UTF-8 only (checked by Node's native validator, so a byte that is
 * not UTF-8 is refused instead of becoming U+FFFD), without a leading byte-order mark.
 */
export function decodeUtf8Body(body: Buffer): string {
  if (!isUtf8(body))
    throw new BadDeliveryError("body is not valid UTF-8 (JSON must be sent in UTF-8, RFC 8259)");
  const start = body[0] === BOM[0] && body[1] === BOM[1] && body[2] === BOM[2] ? 3 : 0;
  return body.toString("utf8", start);
}
