import { EVENT_CATALOGUE } from "../../ado/events";
import { buildMessage, messageId, projectAdoEvent, PROJECTION_MAX_BYTES } from "../../app/messages";
import { DEFAULT_PROJECT, sampleEvent } from "../../devkit/ado-events";

type Obj = Record<string, unknown>;

describe("message ids", () => {
  it("derives the same id from the same (system, event id), distinct otherwise, never with / or \\", () => {
    const a = messageId("devops", "6c6a7a9c-0000-4000-8000-000000000001");
    expect(messageId("devops", "6c6a7a9c-0000-4000-8000-000000000001")).toBe(a);
    expect(messageId("other", "6c6a7a9c-0000-4000-8000-000000000001")).not.toBe(a);
    expect(messageId("devops", "6c6a7a9c-0000-4000-8000-000000000002")).not.toBe(a);
    // The separator keeps ("a", "b\nc") and ("a\nb", "c") apart.
    expect(messageId("a", "b\nc")).not.toBe(messageId("a\nb", "c"));
    for (let i = 0; i < 2000; i++) expect(messageId("devops", `id-${i}`)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("lean projections of every catalogue event type", () => {
  const expectations: Record<string, { actor?: string; kind: string }> = {
    "git.push": { actor: "Jamal Hartnett", kind: "repository" },
    "git.pullrequest.created": { actor: "Jamal Hartnett", kind: "pullRequest" },
    "git.pullrequest.updated": { actor: "Jamal Hartnett", kind: "pullRequest" },
    "git.pullrequest.merged": { actor: "Normal Paulk", kind: "pullRequest" },
    "ms.vss-code.git-pullrequest-comment-event": { actor: "Chuck Reinhart", kind: "pullRequest" },
    "workitem.created": { actor: "Jamal Hartnett", kind: "workItem" },
    "workitem.deleted": { actor: "Jamal Hartnett", kind: "workItem" },
    "workitem.restored": { actor: "Jamal Hartnett", kind: "workItem" },
    "workitem.updated": { actor: "Chuck Reinhart", kind: "workItem" },
    "workitem.commented": { actor: "Jamal Hartnett", kind: "workItem" },
    "build.complete": { actor: "Jamal Hartnett", kind: "build" },
    "tfvc.checkin": { actor: "Johnnie McLeod", kind: "changeset" },
    "ms.vss-release.deployment-completed-event": { actor: "Jamal Hartnett", kind: "deployment" },
    "ms.vss-release.deployment-started-event": { actor: "Jamal Hartnett", kind: "deployment" },
    "ms.vss-release.release-created-event": { actor: "Jamal Hartnett", kind: "release" },
    "ms.vss-pipelines.run-state-changed-event": { kind: "pipelineRun" },
    "ms.vss-pipelines.stage-state-changed-event": { kind: "stage" },
  };

  it("has an expectation for every catalogue type", () => {
    expect(Object.keys(expectations).sort()).toEqual(EVENT_CATALOGUE.map((e) => e.eventType).sort());
  });

  it.each(EVENT_CATALOGUE.map((e) => e.eventType))(
    "projects %s to actor, target, summary and project",
    (type) => {
      for (const targetBytes of [undefined, 18 * 1024]) {
        const event = sampleEvent(type, { targetBytes });
        const p = projectAdoEvent(event as unknown as Obj);
        const size = Buffer.byteLength(JSON.stringify(p));
        expect(size).toBeLessThanOrEqual(PROJECTION_MAX_BYTES);
        expect(p.eventType).toBe(type);
        expect(p.actor?.name).toBe(expectations[type].actor);
        expect(p.target?.kind).toBe(expectations[type].kind);
        expect(p.target?.id).toBeTruthy();
        expect(p.target?.name).toBeTruthy();
        expect(p.summary).toBe(event.message?.text);
        // Every sample is in DEFAULT_PROJECT; release events name it in resource.project only.
        expect(p.project).toEqual({
          id: DEFAULT_PROJECT.id,
          ...(p.project?.name ? { name: "Fabrikam-Fiber-Git" } : {}),
        });
      }
    },
  );

  it("names the work item, the pull request and the build the way a person would look for them", () => {
    const wi = projectAdoEvent(sampleEvent("workitem.updated") as unknown as Obj);
    expect(wi.target).toMatchObject({ name: "Some great new idea!", detail: "Bug · Approved" });
    const pr = projectAdoEvent(sampleEvent("git.pullrequest.merged") as unknown as Obj);
    expect(pr.target).toMatchObject({
      name: "my first pull request",
      detail: "Fabrikam-Fiber-Git · main · completed",
    });
    const build = projectAdoEvent(sampleEvent("build.complete") as unknown as Obj);
    expect(build.target?.detail).toBe("ConsumerAddressModule · succeeded");
  });

  it("copes with an unknown event type and hostile field types without throwing", () => {
    const p = projectAdoEvent({
      id: "x",
      eventType: "my.custom.event",
      resource: { id: 7, pushedBy: 3, fields: "nope", title: { deep: true } },
      message: { text: 12 },
      resourceContainers: { project: "not-an-object" },
    });
    expect(p).toEqual({ eventType: "my.custom.event", target: { kind: "my.custom.event", id: "7" } });
    const q = projectAdoEvent({
      id: "y",
      eventType: "git.push",
      resource: { repository: [], refUpdates: "x" },
    });
    expect(q.eventType).toBe("git.push");
  });
});

describe("message documents", () => {
  it("keeps the body in full mode, only the projection in lean mode, and ttl from retention", () => {
    const event = sampleEvent("git.push") as unknown as Obj;
    const now = new Date("2026-05-01T10:00:00Z");
    const full = buildMessage({ id: "devops", storageMode: "full", retentionDays: 1825 }, "ado", event, now);
    expect(full.body).toBe(event);
    expect(full.projection).toBeUndefined();
    expect(full.ttl).toBe(157_680_000);
    expect(full.receivedAt).toBe("2026-05-01T10:00:00.000Z");
    const lean = buildMessage({ id: "devops", storageMode: "lean", retentionDays: 1 }, "ado", event, now);
    expect(lean.body).toBeUndefined();
    expect(lean.ttl).toBe(86_400);
    expect(lean.projection?.eventType).toBe("git.push");
    expect(Buffer.byteLength(JSON.stringify(lean))).toBeLessThan(2048);
  });
});
