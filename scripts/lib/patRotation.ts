/**
 * What `npm run rotate` checks around a PAT rotation. The AdoPat provider can make a rotation only
 * with a Microsoft Entra user token; without one it defers (warns, keeps the current PAT) and
 * `pulumi up` still succeeds. So rotate refuses to start without the token, and after the run reads
 * the stack output `patRotations` (index.ts) to confirm each rotated PAT applied the new nonce and
 * revoked what it replaced.
 */
import { ADO_RESOURCE_ID } from "../../ado/client";

/** The variable the AdoPat provider reads (USER_TOKEN_ENV in components/credentials/ado-pat-provider.ts). */
export const ADO_USER_TOKEN_ENV = "HOOKFLEET_ADO_USER_TOKEN";

/**
 * How a person gets the token: an Entra access token for Azure DevOps' resource id (the PAT lifecycle
 * API takes one with scope 499b84ac-…/.default: learn.microsoft.com/rest/api/azure/devops/tokens),
 * from the Azure CLI's `az account get-access-token --resource` (docs/credentials.md).
 */
export const USER_TOKEN_HOW =
  `az login (as yourself, not a service principal), then ` +
  `export ${ADO_USER_TOKEN_ENV}=$(az account get-access-token --resource ${ADO_RESOURCE_ID} --query accessToken -o tsv)`;

/** Why a PAT rotation cannot start in this environment, or undefined when it can. */
export function missingUserTokenProblem(env: NodeJS.ProcessEnv, what: string): string | undefined {
  if (env[ADO_USER_TOKEN_ENV]) return undefined;
  return (
    `${what} needs a Microsoft Entra user token in ${ADO_USER_TOKEN_ENV}: the ADO PAT API accepts no other ` +
    `credential, and without it \`pulumi up\` would keep the current PAT and only warn. Get one with: ${USER_TOKEN_HOW}`
  );
}

/** One PAT in the stack output `patRotations`. */
export interface PatRotationOutput {
  /** The rotation nonce the PAT has applied. */
  rotationNonce: string;
  /** Replaced PATs whose revocation failed (still valid until revoked or expired). */
  pendingRevocations: { authorizationId: string; validTo: string }[];
}

/** The `patRotations` keys a rotation covers: every organization's PAT, or one destination's. */
export function rotatedPatKeys(patRotations: Record<string, unknown>, destination?: string): string[] {
  const keys = Object.keys(patRotations);
  return destination === undefined
    ? keys.filter((k) => k.startsWith("pat-"))
    : keys.filter((k) => k === `destinationPat-${destination}`);
}

/**
 * What went wrong with a PAT rotation that `pulumi up` reported as done, judged from the stack
 * outputs after it (`pulumi stack output --json`); [] when every PAT rotated applied `nonce` and
 * revoked what it replaced.
 */
export function patRotationProblems(options: {
  outputs: Record<string, unknown>;
  nonce: string;
  stack: string;
  destination?: string;
}): string[] {
  const { outputs, nonce, stack, destination } = options;
  const all = outputs.patRotations;
  const which = destination === undefined ? "the stack's PATs" : `the PAT of destination ${destination}`;
  if (typeof all !== "object" || all === null || Array.isArray(all))
    return [
      `cannot confirm the rotation of ${which}: the stack has no readable output patRotations (pulumi stack output --stack ${stack})`,
    ];
  const rotations = all as Record<string, unknown>;
  const keys = rotatedPatKeys(rotations, destination);
  if (keys.length === 0)
    return [`cannot confirm the rotation of ${which}: the stack output patRotations lists none`];
  const problems: string[] = [];
  for (const key of keys) {
    const entry = (rotations[key] ?? {}) as Partial<PatRotationOutput>;
    if (entry.rotationNonce !== nonce) {
      problems.push(
        `${key}: the rotation was not made (the PAT still has rotationNonce "${entry.rotationNonce ?? ""}", ` +
          `not "${nonce}"), so the previous PAT was neither replaced nor revoked. The run had no Microsoft Entra ` +
          `user token the PAT API accepts (${ADO_USER_TOKEN_ENV} empty or holding an app-only token), or the ` +
          `token is not the PAT's owner's (the PAT API lets only the user who created a PAT rotate it; pulumi up ` +
          `warned so). Get the right one (${USER_TOKEN_HOW}) and apply the rotation: npm run up -- --stack ${stack}`,
      );
      continue;
    }
    const pending = Array.isArray(entry.pendingRevocations) ? entry.pendingRevocations : [];
    if (pending.length > 0)
      problems.push(
        `${key}: the new PAT is in place, but revoking the PAT(s) it replaced failed: ` +
          `${pending.map((p) => `${p.authorizationId} (valid until ${p.validTo})`).join(", ")}. ` +
          `They still work. Run npm run up -- --stack ${stack} with ${ADO_USER_TOKEN_ENV} set to retry, ` +
          `or revoke them by hand in Azure DevOps`,
      );
  }
  return problems;
}
