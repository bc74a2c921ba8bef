/**
 * The one system and the credentials the receiver benchmarks run their receivers with (bench:receiver
 * and bench:telemetry measure the same receiver, so they configure it alike).
 */
import type { CredentialSettings } from "../../app/config";
import type { SystemSetting } from "../../app/settings";
import { sha256Hex } from "../../app/tokens";

/** ADO's system, storing whole messages, as a default deployment does. */
export const BENCH_SYSTEM: SystemSetting = { id: "devops", storageMode: "full", retentionDays: 1825 };

/** Credentials accepting `urlToken` for BENCH_SYSTEM, and `readToken` on the read API when given. */
export function benchCredentials(urlToken: string, readToken?: string): CredentialSettings {
  return {
    systems: [BENCH_SYSTEM],
    urlTokens: [{ sha256: sha256Hex(urlToken), systemId: BENCH_SYSTEM.id }],
    readTokens: readToken ? [{ sha256: sha256Hex(readToken) }] : [],
  };
}
