/**
 * How long the HookFleet program takes to start under the Pulumi CLI, measured without the CLI: a
 * fresh Node process loads index.ts exactly as the CLI's language host does (Pulumi.yaml runtime
 * options: ts-node with tsconfig.pulumi.json, devkit/provider-host/cli-typescript.cjs) under
 * mocks, with a stack's config (default: dev, the receiver on Azure included; its organizations
 * pointed at the ADO emulator), and runs `pulumi preview` with the engine model and the real
 * dynamic-provider host. Prints one line per mode:
 *
 *   program: mode=<transpile-only|type-check> load-seconds=<s> preview-seconds=<s>
 *
 * load = process start until index.ts has been loaded (resources registered); preview = the whole
 * command (the host started, every resource checked and created in preview). `type-check` is what
 * the CLI does without `noCheck` (PULUMI_NODEJS_TRANSPILE_ONLY=false), for comparison. ts-node's
 * compile cache is off (TS_NODE_CACHE=false): every run pays what a fresh CI runner pays; with a
 * warm cache on a workstation both modes start faster.
 */
import { parseArgs } from "node:util";
import { startAdoEmulator } from "../../devkit/ado-emulator";
import { runCliCommand } from "../../devkit/provider-host/cli-command";
import { effectiveConfig, organizationsOf, orgSegment, stackFile } from "../../devkit/stack-config";

const HELP = `Usage: npm run bench:program -- [--runs N] [--projects N] [--stack NAME]

Starts index.ts the way the Pulumi CLI does (ts-node per Pulumi.yaml, under mocks, a stack's config with
its organizations on the ADO emulator) and times it, transpile-only (this project's setting) and with
type-checking.

Options:
  --runs N       runs per mode; the median is printed (default 3)
  --projects N   projects in each emulated organization (default 3)
  --stack NAME   stack whose config is used, from stacks/ (default dev)
  --help         this text

Output: "program: mode=transpile-only load-seconds=3.1 preview-seconds=5.2", then the same for type-check.`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<number> {
  let runs: number;
  let projects: number;
  let stack: string;
  try {
    const { values } = parseArgs({
      options: {
        runs: { type: "string", default: "3" },
        projects: { type: "string", default: "3" },
        stack: { type: "string", default: "dev" },
        help: { type: "boolean", default: false },
      },
      strict: true,
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    runs = Number(values.runs);
    stack = values.stack;
    projects = Number(values.projects);
    if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a whole number >= 1");
    if (!Number.isInteger(projects) || projects < 1)
      throw new Error("--projects must be a whole number >= 1");
  } catch (err) {
    process.stderr.write(`bench:program: ${(err as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const raw = stackFile(stack);
  const orgs = organizationsOf(raw).map((o) => ({ ...o, name: o.name ?? orgSegment(o.url) }));
  const emulator = await startAdoEmulator({
    orgs: orgs.map((o) => ({ name: o.name, projects })),
    allowBasicAuthOverLoopbackHttp: true,
  });
  try {
    const config = effectiveConfig({
      ...raw,
      "hookfleet:organizations": orgs.map((o) => ({ ...o, url: emulator.orgUrl(o.name), projects: "all" })),
    });
    for (const mode of ["transpile-only", "type-check"] as const) {
      const load: number[] = [];
      const total: number[] = [];
      for (let i = 0; i < runs; i++) {
        const result = await runCliCommand({
          command: "preview",
          program: "index.ts",
          stack,
          config: { ...config, "hookfleet:adoPat": emulator.pat },
          secretKeys: ["hookfleet:adoPat"],
          refresh: false,
          // The receiver's names carry the subscription id (components/receiver/names.ts); no Azure here, so
          // placeholder ids (made up, not any real subscription or tenant).
          invokes: {
            "azure-native:authorization:getClientConfig": {
              subscriptionId: "00000000-0000-4000-8000-000000000000",
              tenantId: "00000000-0000-4000-8000-000000000001",
              clientId: "00000000-0000-4000-8000-000000000002",
              objectId: "00000000-0000-4000-8000-000000000003",
            },
          },
          env: {
            AZURE_DEVOPS_EXT_PAT: emulator.pat,
            // What the CLI does without `noCheck` in the tsconfig it is given.
            PULUMI_NODEJS_TRANSPILE_ONLY: mode === "type-check" ? "false" : undefined,
            // Cold: the vendored ts-node 7 caches compiled files in the temp directory by default.
            TS_NODE_CACHE: "false",
          },
        });
        load.push(result.programLoadMs / 1000);
        total.push(result.commandMs / 1000);
        process.stderr.write(
          `» ${mode} run ${i + 1}: loaded in ${(result.programLoadMs / 1000).toFixed(1)} s, ` +
            `preview of ${result.deployment.changes.create} resources in ${(result.commandMs / 1000).toFixed(1)} s\n`,
        );
      }
      console.log(
        `program: mode=${mode} load-seconds=${median(load).toFixed(1)} preview-seconds=${median(total).toFixed(1)}`,
      );
    }
    return 0;
  } finally {
    await emulator.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench:program failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
