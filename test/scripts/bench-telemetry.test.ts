/**
 * bench:telemetry measures the receiver's telemetry per delivery: a short real run exports spans
 * to its sink over gRPC and prints the cost with its interval; the exporter can be swapped to tell
 * making spans from sending them; bad arguments are refused with the help.
 */
import { execFile } from "node:child_process";
import path from "node:path";

jest.setTimeout(120_000);

function bench(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      "npm",
      ["run", "-s", "bench:telemetry", "--", ...args],
      {
        cwd: path.resolve(__dirname, "../.."),
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr }),
    ),
  );
}

const number = String.raw`(-?\d+\.\d)`;

test("a short run sends the spans to the sink and prints the cost per delivery with its interval", async () => {
  // Every trace recorded, so that the export count below does not depend on sampling.
  const { code, stdout, stderr } = await bench(
    ["--deliveries", "100", "--blocks", "6", "--concurrency", "4"],
    {
      HOOKFLEET_DELIVERY_TRACES_PER_SECOND: "all",
    },
  );
  expect({ code, stderr: code ? stderr : "" }).toEqual({ code: 0, stderr: "" });
  expect(stdout).toContain(
    "telemetry bench: 2 blocks of 100 deliveries per receiver, store discard, 4 KB events, 4 in flight",
  );
  // 6 blocks of 100 deliveries with two spans each, in batches of at most 512: at least two exports.
  const exports = Number(
    /exporter: OTLP\/gRPC to a sink process \((\d+) exports received\); HOOKFLEET_DELIVERY_TRACES_PER_SECOND=all/.exec(
      stdout,
    )?.[1],
  );
  expect(exports).toBeGreaterThanOrEqual(2);
  const cost = new RegExp(
    `telemetry's cost per delivery: ${number} µs, 95 % CI ${number}–${number} \\(only 50 %: too few blocks\\)`,
  ).exec(stdout);
  expect(cost).not.toBeNull();
  const [median, low, high] = cost!.slice(1).map(Number);
  expect(low).toBeLessThanOrEqual(median);
  expect(median).toBeLessThanOrEqual(high);
  expect(stdout).toMatch(/main-thread CPU per delivery, median of blocks: off \d+ µs, on \d+ µs/);
});

test("--exporter drop makes the spans but sends nothing", async () => {
  const { code, stdout } = await bench(["--deliveries", "50", "--blocks", "5", "--exporter", "drop"]);
  expect(code).toBe(0);
  // Had the OTLP exporter been used all the same, the sink would have received the spans.
  expect(stdout).toContain("exporter: spans made and dropped (the sink received 0 exports)");
  expect(stdout).toMatch(/telemetry's cost per delivery: -?\d+\.\d µs/);
});

test("bad arguments exit 64 with the reason and the help", async () => {
  const bad = await bench(["--exporter", "zipkin"]);
  expect(bad.code).toBe(64);
  expect(bad.stderr).toMatch(/--exporter.*otlp, serialize, drop/);
  expect(bad.stderr).toContain("Usage: npm run bench:telemetry");
  const few = await bench(["--blocks", "4"]);
  expect(few.code).toBe(64);
  expect(few.stderr).toContain("--blocks must be a whole number >= 5");
  const help = await bench(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("--exporter otlp|serialize|drop");
});
