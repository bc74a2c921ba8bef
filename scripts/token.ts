/**
 * `npm run token [-- --password] [--system <id>] [--json]`: mint an `alw_` URL token (or a Basic
 * password) and print it with its SHA-256, the only form the receiver is configured with.
 */
import { SYSTEM_ID } from "../app/config";
import { mintPassword, mintToken, sha256Hex } from "../app/tokens";

const HELP = `Usage: npm run token -- [--password] [--system <id>] [--not-after <ISO time>] [--json]

Mints a URL token (alw_ + 30 random + 6 checksum characters) or, with --password, a Basic-auth
password, and prints it with its SHA-256. Give the receiver only the hash:
  HOOKFLEET_URL_TOKENS='[{"sha256":"<hash>","systemId":"devops"}]'
Options:
  --password            mint a Basic-auth password instead of a URL token
  --system <id>         system id for the printed HOOKFLEET_URL_TOKENS entry (default devops)
  --not-after <ISO>     add an expiry (end of a rotation overlap) to the printed entry
  --json                print {secret, sha256, entry} as JSON
  --help                this text`;

function fail(message: string): never {
  console.error(`token: ${message}\n\n${HELP}`);
  process.exit(2);
}

function main(argv: string[]): void {
  let password = false;
  let json = false;
  let system = "devops";
  let notAfter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") return void console.log(HELP);
    else if (a === "--password") password = true;
    else if (a === "--json") json = true;
    else if (a === "--system") system = argv[++i] ?? fail("--system needs a value");
    else if (a === "--not-after") {
      notAfter = argv[++i] ?? fail("--not-after needs a value");
      if (Number.isNaN(Date.parse(notAfter))) fail(`--not-after "${notAfter}" is not an ISO date-time`);
      notAfter = new Date(notAfter).toISOString();
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
}

main(process.argv.slice(2));
