/**
 * The PAT lifecycle client the AdoPat provider uses: the one ADO client (ado/client.ts) authenticated
 * with the Microsoft Entra user token found in the environment at run time.
 */
import type { AccessToken, TokenCredential } from "@azure/identity";
import { AdoClient } from "../../ado/client";
import type { AdoPatApi } from "../../ado/types";

/** The token's `exp` claim in ms, or an hour from now for an opaque token. */
function expiryOf(token: string): number {
  try {
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      exp?: number;
    };
    if (typeof claims.exp === "number") return claims.exp * 1000;
  } catch {
    // not a JWT: fall through
  }
  return Date.now() + 3_600_000;
}

/**
 * A TokenCredential that hands out one token obtained elsewhere: the HOOKFLEET_ADO_USER_TOKEN the person
 * running `pulumi up` or `npm run rotate` exported (e.g. from `az account get-access-token`). Nothing in
 * HookFleet fetches one; the rotate script only refuses to run a PAT rotation without it.
 */
export function staticTokenCredential(token: string): TokenCredential {
  const access: AccessToken = { token, expiresOnTimestamp: expiryOf(token) };
  return { getToken: async () => access };
}

export function createPatApi(
  target: { organizationUrl: string; vsspsUrl: string },
  userToken: string,
): AdoPatApi {
  return new AdoClient({
    orgUrl: target.organizationUrl,
    vsspsUrl: target.vsspsUrl,
    auth: { kind: "entra", credential: staticTokenCredential(userToken) },
    // A PAT call is one request per run; do not sit in long backoffs inside `pulumi up`.
    maxRetries: 2,
    retryBaseMs: 200,
  });
}
