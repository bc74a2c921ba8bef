/**
 * `npm run token [-- --password] [--system <id>] [--not-after <ISO>] [--json]`: mint an `alw_` URL
 * token (or a Basic password) and print it with its SHA-256, the only form the receiver is
 * configured with, and the commands that run a local receiver accepting it (tested by running them
 * as printed: test/app/token-command.test.ts).
 */
import { LOCAL_DEFAULT_SYSTEM, SYSTEM_ID } from "../app/config";
import { parseInstant } from "../app/instants";
import { mintPassword, mintToken, sha256Hex } from "../app/tokens";
import { EXIT } from "./lib/args";

const HELP = `Usage: npm run token -- [--password] [--system <id>] [--not-after <RFC 3339 time>] [--json]

Mints a URL token (alw_ + 30 random + 6 checksum characters) or, with --password, a Basic-auth
password, and prints it with its SHA-256 and the commands that start a local receiver accepting it.
Give the receiver only the hash:
  HOOKFLEET_URL_TOKENS='[{"sha256":"<hash>","systemId":"devops"}]'
Options:
  --password            mint a Basic-auth password instead of a URL token
  --system <id>         system id for the printed entries (default devops)
  --not-after <time>    add an expiry (end of a rotation overlap) to the printed entry,
                        an RFC 3339 date-time with zone such as 2026-12-31T00:00:00Z
  --json                print {secret, sha256, entry} as JSON
  --help                this text
Exit codes: 0 printed, 64 bad arguments.`;

/** Local receiver's default port (app/settings.ts PORT) and address (LOCAL_HOST). */
const LOCAL_BASE = "http://127.0.0.1:7071";
const SAMPLE_EVENT = '{"id":"6f9d44f5-0000-4000-8000-000000000001","eventType":"git.push","resource":{}}';

function fail(message: string): never {
  console.error(`token: ${message}\n\n${HELP}`);
  process.exit(EXIT.usage);
}

/** A shell word in single quotes (the JSON we print contains none, but a system id could). */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The lines that run a local receiver accepting the credential and deliver one event to it. */
function localTrial(opts: { password: boolean; system: string; secret: string; entry: object }): string[] {
  // A system other than the local default must be declared; a Basic password belongs to its system.
  const system = { ...LOCAL_DEFAULT_SYSTEM, id: opts.system };
  const env: string[] = [];
  if (opts.password)
    env.push(
      `HOOKFLEET_SYSTEMS=${shellQuote(JSON.stringify([{ ...system, basicPasswords: [opts.entry] }]))}`,
    );
  else {
    if (opts.system !== LOCAL_DEFAULT_SYSTEM.id)
      env.push(`HOOKFLEET_SYSTEMS=${shellQuote(JSON.stringify([system]))}`);
    env.push(`HOOKFLEET_URL_TOKENS=${shellQuote(JSON.stringify([opts.entry]))}`);
  }
  const deliver = opts.password
    ? `curl -s -u ${shellQuote(`hookfleet:${opts.secret}`)} -H 'content-type: application/json' -d ${shellQuote(SAMPLE_EVENT)} ${LOCAL_BASE}/api/v1/systems/${opts.system}/webhooks`
    : `curl -s -H 'content-type: application/json' -d ${shellQuote(SAMPLE_EVENT)} ${LOCAL_BASE}/api/v1/webhooks/${opts.secret}`;
  return [
    "",
    `Try it with a local receiver (in-memory store, ${LOCAL_BASE}):`,
    `  ${env.join(" ")} npm run receiver`,
    "and, in another shell:",
    `  ${deliver}`,
  ];
}

function main(argv: string[]): void {
  let password = false;
  let json = false;
  let system = LOCAL_DEFAULT_SYSTEM.id;
  let notAfter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") return void console.log(HELP);
    else if (a === "--password") password = true;
    else if (a === "--json") json = true;
    else if (a === "--system") system = argv[++i] ?? fail("--system needs a value");
    else if (a === "--not-after") {
      const value = argv[++i] ?? fail("--not-after needs a value");
      // The receiver's own parser (strict RFC 3339 with a zone), so what is printed is what it accepts.
      const instant = parseInstant(value);
      if ("problem" in instant) fail(`--not-after ${instant.problem}`);
      notAfter = instant.iso;
    } else fail(`unknown argument "${a}"`);
  }
  if (!SYSTEM_ID.test(system)) fail(`--system "${system}" is not a valid system id`);
  const secret = password ? mintPassword() : mintToken();
  const sha256 = sha256Hex(secret);
  const entry = password
    ? { sha256, ...(notAfter ? { notAfter } : {}) }
    : { sha256, systemId: system, ...(notAfter ? { notAfter } : {}) };
  if (json) return void console.log(JSON.stringify({ secret, sha256, entry }));
  console.log(`${password ? "password" : "token"}: ${secret}`);
  console.log(`sha256: ${sha256}`);
  console.log(
    `${password ? "basicPasswords entry" : "HOOKFLEET_URL_TOKENS entry"}: ${JSON.stringify(entry)}`,
  );
  console.log(localTrial({ password, system, secret, entry }).join("\n"));
}

main(process.argv.slice(2));
