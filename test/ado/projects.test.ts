import * as azdev from "azure-devops-node-api";
import { AdoClient } from "../../ado/client";
import { AdoError } from "../../ado/errors";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";

describe("projects against the ADO emulator", () => {
  let emu: AdoEmulator;
  let client: AdoClient;

  beforeAll(async () => {
    emu = await startAdoEmulator({
      orgs: [
        { name: "contoso", projects: 23 },
        { name: "fabrikam", projects: ["Web", "Api"] },
      ],
    });
    emu.addProject("Web-Legacy");
    emu.addProject("Half-Made", { state: "createPending" });
    emu.addProject("Going-Away", { state: "deleting" });
    client = new AdoClient({
      orgUrl: emu.orgUrl(),
      auth: { kind: "pat", pat: emu.pat },
      projectsPageSize: 5,
    });
  });
  afterAll(() => emu.close());

  test("pages through every project and keeps only wellFormed ones", async () => {
    emu.counters.reset();
    const projects = await client.listProjects();
    expect(projects).toHaveLength(24);
    expect(projects.map((p) => p.name)).toContain("Project-023");
    expect(projects.map((p) => p.name)).not.toContain("Half-Made");
    expect(projects.every((p) => p.state === "wellFormed")).toBe(true);
    // 26 projects in all states at 5 per page: 6 pages.
    expect(emu.counters.byRoute["GET /_apis/projects"]).toBe(6);
  });

  test("include and exclude globs, case-insensitive like ADO names", async () => {
    const names = (
      await client.listProjects({ include: ["project-01*", "web*"], exclude: ["*-015", "*legacy"] })
    ).map((p) => p.name);
    expect(names).toEqual([
      "Project-010",
      "Project-011",
      "Project-012",
      "Project-013",
      "Project-014",
      "Project-016",
      "Project-017",
      "Project-018",
      "Project-019",
    ]);
  });

  test("explicit names or ids; a missing or not wellFormed one is an error", async () => {
    const all = await client.listProjects();
    const byId = all.find((p) => p.name === "Project-002")!;
    const picked = await client.listProjects({ names: ["project-001", byId.id] });
    expect(picked.map((p) => p.name)).toEqual(["Project-001", "Project-002"]);
    await expect(client.listProjects({ names: ["Project-001", "Nope", "Half-Made"] })).rejects.toThrow(
      /projects not found.*Nope, Half-Made/,
    );
  });

  test("organizations are separate", async () => {
    const other = new AdoClient({ orgUrl: emu.orgUrl("fabrikam"), auth: { kind: "pat", pat: emu.pat } });
    expect((await other.listProjects()).map((p) => p.name)).toEqual(["Api", "Web"]);
  });

  test("the projects API pages with the x-ms-continuationtoken header and with $top/$skip", async () => {
    const auth = { Authorization: `Basic ${Buffer.from(`:${emu.pat}`).toString("base64")}` };
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const url = `${emu.orgUrl()}/_apis/projects?$top=10&api-version=7.1${token ? `&continuationToken=${token}` : ""}`;
      const res = await fetch(url, { headers: auth });
      const body = (await res.json()) as { value: { name: string }[] };
      seen.push(...body.value.map((p) => p.name));
      token = res.headers.get("x-ms-continuationtoken");
    } while (token);
    expect(seen).toHaveLength(24);
    const skipped = (await (
      await fetch(`${emu.orgUrl()}/_apis/projects?$top=3&$skip=20`, { headers: auth })
    ).json()) as { count: number };
    expect(skipped.count).toBe(3);
  });

  test("the real azure-devops-node-api WebApi/CoreApi works against the emulator", async () => {
    const connection = new azdev.WebApi(emu.orgUrl(), azdev.getPersonalAccessTokenHandler(emu.pat));
    const core = await connection.getCoreApi();
    const page = await core.getProjects(undefined, 100);
    expect(page.map((p) => p.name)).toContain("Project-001");
    expect(page).toHaveLength(24);
    const second = await core.getProjects(undefined, 10, 20);
    expect(second.map((p) => p.name)).toEqual(["Project-021", "Project-022", "Project-023", "Web-Legacy"]);
    const one = await core.getProject("Project-007");
    expect(one.name).toBe("Project-007");
  });

  test("a wrong PAT is refused with ADO's TF400813 message, not retried", async () => {
    const bad = new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: "not-the-pat" } });
    const err = (await bad.listProjects().catch((e: unknown) => e)) as AdoError;
    expect(err).toBeInstanceOf(AdoError);
    expect(err.status).toBe(401);
    expect(err.tfCode).toBe("TF400813");
    expect(err.message).not.toContain("not-the-pat");
  });
});
