/**
 * The awkward-traffic measurements of `npm run bench:receiver` (issue 13), against a row (a)
 * server (receiver + embedded store, its own process):
 *   large-array: 5,000-event, 1 MB Event Grid arrays while /healthz is polled every 10 ms
 *   list: the read API over many stored messages, and /healthz while it pages
 * Plain fetch from this process; figures are wall-clock milliseconds.
 */
import { performance } from "node:perf_hooks";
import { gridArray } from "../../devkit/grid-events";

export interface ScenarioServer {
  /** The receiver's webhook URL (token included). */
  url: string;
  readToken: string;
}

interface Latencies {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function latencies(xs: number[]): Latencies {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { samples: xs.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN };
}

const fmt = (l: Latencies) =>
  `p50 ${l.p50.toFixed(1)}  p99 ${l.p99.toFixed(1)}  max ${l.max.toFixed(1)} ms (${l.samples} samples)`;

async function post(url: string, body: string): Promise<number> {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  await res.arrayBuffer();
  return res.status;
}

/** /healthz round trips, one every `everyMs`, until `until()` is true. */
async function pollHealth(base: string, until: () => boolean, everyMs = 10): Promise<number[]> {
  const out: number[] = [];
  while (!until()) {
    const t0 = performance.now();
    const res = await fetch(`${base}/healthz`);
    await res.arrayBuffer();
    out.push(performance.now() - t0);
    await sleep(everyMs);
  }
  return out;
}

export async function measureLargeArray(server: ScenarioServer, rounds: number): Promise<string[]> {
  const base = new URL(server.url).origin;
  let idleDone = false;
  setTimeout(() => (idleDone = true), 2000);
  const idle = latencies(await pollHealth(base, () => idleDone));
  const answers: number[] = [];
  const statuses: number[] = [];
  const during: number[] = [];
  let bytes = 0;
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`  large array round ${round}/${rounds}\n`);
    const body = gridArray(`bench-${Date.now()}-${round}`, 5000, 1_000_000);
    bytes = Buffer.byteLength(body);
    let done = false;
    const t0 = performance.now();
    const answer = post(server.url, body).finally(() => (done = true));
    during.push(...(await pollHealth(base, () => done)));
    statuses.push(await answer);
    answers.push(performance.now() - t0);
  }
  const duringArray = latencies(during);
  return [
    `large array: 5,000 events, ${bytes} bytes, ${rounds} rounds: answers ${statuses.join(", ")} in ` +
      `${answers.map((a) => (a / 1000).toFixed(1)).join(", ")} s`,
    `  /healthz idle:             ${fmt(idle)}`,
    `  /healthz during the array: ${fmt(duringArray)}`,
  ];
}

async function timed(url: string, token: string): Promise<{ ms: number; body: Record<string, unknown> }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${JSON.stringify(body)}`);
  return { ms: performance.now() - t0, body };
}

export async function measureList(server: ScenarioServer, messages: number): Promise<string[]> {
  const base = new URL(server.url).origin;
  const perArray = 500;
  process.stderr.write(`  storing ${messages} messages in arrays of ${perArray}…\n`);
  const seedStart = performance.now();
  for (let i = 0; i < messages; i += perArray) {
    const status = await post(
      server.url,
      gridArray(
        `list-${Date.now()}-${i}`,
        Math.min(perArray, messages - i),
        Math.min(perArray, messages - i) * 200,
      ),
    );
    if (status !== 201) throw new Error(`storing messages: answer ${status}`);
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;
  const lines = [`list: ${messages} messages stored (${seedSeconds.toFixed(1)} s); read API, median of 5:`];
  for (const query of ["limit=1", "limit=200", "systemId=devops&limit=1", "systemId=devops&limit=200"]) {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++)
      runs.push((await timed(`${base}/api/v1/messages?${query}`, server.readToken)).ms);
    lines.push(`  ${query.padEnd(26)} ${latencies(runs).p50.toFixed(1)} ms`);
  }
  let pagingDone = false;
  const health = pollHealth(base, () => pagingDone);
  const t0 = performance.now();
  let pages = 0;
  let seen = 0;
  let continuation: string | null = null;
  do {
    const { body } = await timed(
      `${base}/api/v1/messages?systemId=devops&limit=200${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ""}`,
      server.readToken,
    );
    pages++;
    seen += (body.messages as unknown[]).length;
    continuation = body.continuation as string | null;
  } while (continuation);
  const pagingMs = performance.now() - t0;
  pagingDone = true;
  lines.push(
    `  paging through all, limit=200: ${seen} messages in ${pages} pages, ${(pagingMs / 1000).toFixed(1)} s ` +
      `(${(pagingMs / pages).toFixed(1)} ms a page)`,
    `  /healthz while paging: ${fmt(latencies(await health))}`,
  );
  return lines;
}
