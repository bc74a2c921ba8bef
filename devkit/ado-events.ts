/**
 * Realistic Azure DevOps service hook payloads, one builder per event type of
 * ado/events.ts EVENT_CATALOGUE, shaped after the samples in MicrosoftDocs service-hooks/events.md.
 * Used by the receiver's tests and benchmark and by the ADO emulator to emit deliveries.
 *
 * Every call returns a fresh event: new GUID `id`, `createdDate` now, resourceContainers for the
 * collection/account/project. Release (`rm`) events have no project container, like their samples
 * in events.md: their project is `resource.project`. `overrides` set the project, the
 * organization, the size and any top-level field; `resource` in overrides is merged shallowly
 * into the built resource.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { AdoEvent } from "../ado/types";
import { EVENT_CATALOGUE, eventTypeInfo } from "../ado/events";

export interface SampleProject {
  id: string;
  name: string;
}

export interface SampleEventOverrides extends Partial<Omit<AdoEvent, "resource">> {
  /** Organization name (URLs become https://dev.azure.com/{org}/). Default `fabrikam`. */
  org?: string;
  /** Project the event belongs to. Default Fabrikam-Fiber-Git with a fixed id. */
  project?: SampleProject;
  /** Merged shallowly into the built `resource`. */
  resource?: Record<string, unknown>;
  /**
   * Grow the payload to at least this many bytes of JSON with realistic content (more commits for
   * pushes and pull requests, more history text elsewhere). Used for the 4 KB / 18 KB benchmark.
   */
  targetBytes?: number;
}

export const DEFAULT_PROJECT: SampleProject = {
  id: "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c",
  name: "Fabrikam-Fiber-Git",
};
const COLLECTION_ID = "c12d0eb8-e382-443b-9f9c-c52cba5014c2";

interface Ctx {
  org: string;
  baseUrl: string;
  project: SampleProject;
  projectUrl: string;
  now: Date;
}

interface Person {
  displayName: string;
  uniqueName: string;
  id: string;
}

const PEOPLE: Person[] = [
  {
    displayName: "Jamal Hartnett",
    uniqueName: "jamal@fabrikamfiber.com",
    id: "54d125f7-69f7-4191-904f-c5b96b6261c8",
  },
  {
    displayName: "Normal Paulk",
    uniqueName: "normal@fabrikamfiber.com",
    id: "2ea2d095-48f9-4cd6-9966-62f6f574096c",
  },
  {
    displayName: "Chuck Reinhart",
    uniqueName: "chuck@fabrikamfiber.com",
    id: "d6245f20-2af8-44f4-9451-8107cb2767db",
  },
  {
    displayName: "Johnnie McLeod",
    uniqueName: "johnnie@fabrikamfiber.com",
    id: "8c8c7d32-6b1b-47f4-b2e9-30b477b5ab3d",
  },
  {
    displayName: "Fabrikam Build Service",
    uniqueName: "build@fabrikamfiber.com",
    id: "00000002-0000-8888-8000-000000000000",
  },
];

const COMMIT_MESSAGES = [
  "Fixed bug in web.config file",
  "Add retry with jitter to the payment gateway client",
  "Bump Newtonsoft.Json from 13.0.1 to 13.0.3",
  "Refactor order service: extract pricing rules into their own module",
  "Update README with local set-up steps for the emulator",
  "Make the nightly export idempotent so reruns do not duplicate rows",
  "Remove the deprecated v1 customer endpoint and its tests",
  "Handle null shipping address when the order is a digital download",
];

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

function iso(d: Date, offsetMinutes = 0): string {
  return new Date(d.getTime() + offsetMinutes * 60_000).toISOString();
}

function identity(ctx: Ctx, p: Person): Record<string, unknown> {
  return {
    displayName: p.displayName,
    url: `${ctx.baseUrl}_apis/Identities/${p.id}`,
    _links: { avatar: { href: `${ctx.baseUrl}_apis/GraphProfile/MemberAvatars/aad.${p.id}` } },
    id: p.id,
    uniqueName: p.uniqueName,
    imageUrl: `${ctx.baseUrl}_api/_common/identityImage?id=${p.id}`,
    descriptor: `aad.${Buffer.from(p.id).toString("base64url").slice(0, 40)}`,
  };
}

function projectRef(ctx: Ctx): Record<string, unknown> {
  return {
    id: ctx.project.id,
    name: ctx.project.name,
    url: `${ctx.baseUrl}_apis/projects/${ctx.project.id}`,
    state: "wellFormed",
    revision: 411,
    visibility: "private",
    lastUpdateTime: "2026-01-12T09:31:07.513Z",
  };
}

function repository(ctx: Ctx): Record<string, unknown> {
  const id = "4bc14d40-c903-45e2-872e-0462c7748079";
  return {
    id,
    name: ctx.project.name,
    url: `${ctx.baseUrl}${ctx.project.id}/_apis/git/repositories/${id}`,
    project: projectRef(ctx),
    defaultBranch: "refs/heads/main",
    size: 48213376,
    remoteUrl: `${ctx.baseUrl}${encodeURIComponent(ctx.project.name)}/_git/${encodeURIComponent(ctx.project.name)}`,
    sshUrl: `git@ssh.dev.azure.com:v3/${ctx.org}/${ctx.project.name}/${ctx.project.name}`,
    webUrl: `${ctx.baseUrl}${encodeURIComponent(ctx.project.name)}/_git/${encodeURIComponent(ctx.project.name)}`,
    isDisabled: false,
    isInMaintenance: false,
  };
}

function commit(ctx: Ctx, i: number): Record<string, unknown> {
  const author = PEOPLE[i % 4];
  const commitId = hex(20);
  const when = iso(ctx.now, -5 * (i + 1));
  return {
    commitId,
    author: { name: author.displayName, email: author.uniqueName, date: when },
    committer: { name: author.displayName, email: author.uniqueName, date: when },
    comment: COMMIT_MESSAGES[i % COMMIT_MESSAGES.length],
    changeCounts: { Add: i % 3, Edit: 1 + (i % 5), Delete: i % 2 },
    url: `${ctx.baseUrl}_git/${encodeURIComponent(ctx.project.name)}/commit/${commitId}`,
  };
}

function commitRef(ctx: Ctx): Record<string, unknown> {
  const commitId = hex(20);
  return { commitId, url: `${ctx.baseUrl}${ctx.project.id}/_apis/git/commits/${commitId}` };
}

function messages(text: string, markdown = text): Pick<AdoEvent, "message" | "detailedMessage"> {
  const html = markdown.replace(/\[([^\]]+)\]\(([^)]+)\)/g, '<a href="$2">$1</a>').replace(/\n/g, "<br/>");
  return {
    message: { text, html, markdown },
    detailedMessage: { text, html, markdown },
  };
}

// ---------- git ----------

function gitPush(ctx: Ctx, commitCount: number): Pick<AdoEvent, "resource" | "message" | "detailedMessage"> {
  const pusher = PEOPLE[0];
  const commits = Array.from({ length: commitCount }, (_, i) => commit(ctx, i));
  const repo = repository(ctx);
  const lines = commits.map((c) => `* ${String(c.commitId).slice(0, 8)}: ${String(c.comment)}`).join("\n");
  const pushId = 14 + Math.floor(Math.random() * 10_000);
  return {
    ...messages(
      `${pusher.displayName} pushed updates to ${ctx.project.name}:main.`,
      `${pusher.displayName} pushed ${commitCount} commit(s) to branch [main](${repo.webUrl}/#version=GBmain) of [${ctx.project.name}](${repo.webUrl})\n${lines}`,
    ),
    resource: {
      commits,
      refUpdates: [
        { name: "refs/heads/main", oldObjectId: hex(20), newObjectId: commits[0]?.commitId ?? hex(20) },
      ],
      repository: repo,
      pushedBy: identity(ctx, pusher),
      pushId,
      date: iso(ctx.now),
      url: `${ctx.baseUrl}_apis/git/repositories/${String(repo.id)}/pushes/${pushId}`,
      _links: {
        self: { href: `${ctx.baseUrl}_apis/git/repositories/${String(repo.id)}/pushes/${pushId}` },
        repository: { href: String(repo.url) },
        commits: { href: `${ctx.baseUrl}_apis/git/repositories/${String(repo.id)}/pushes/${pushId}/commits` },
        pusher: { href: `${ctx.baseUrl}_apis/Identities/${pusher.id}` },
        refs: { href: `${ctx.baseUrl}_apis/git/repositories/${String(repo.id)}/refs` },
      },
    },
  };
}

type PrKind = "created" | "updated" | "merged";

function pullRequest(ctx: Ctx, kind: PrKind, commitCount: number): Record<string, unknown> {
  const repo = repository(ctx);
  const pullRequestId = 1 + Math.floor(Math.random() * 5000);
  const completed = kind === "merged";
  const votes = [10, 5, 0, -5];
  return {
    repository: repo,
    pullRequestId,
    codeReviewId: pullRequestId,
    status: completed ? "completed" : "active",
    createdBy: identity(ctx, PEOPLE[0]),
    creationDate: iso(ctx.now, -240),
    ...(completed ? { closedDate: iso(ctx.now), closedBy: identity(ctx, PEOPLE[1]) } : {}),
    title: "my first pull request",
    description:
      "Adds retries with jitter to the payment gateway client.\n\n- exponential back-off, capped at 30 s\n- honours Retry-After\n- unit tests for the 429 and 503 paths",
    sourceRefName: "refs/heads/mytopic",
    targetRefName: "refs/heads/main",
    mergeStatus: completed ? "succeeded" : "queued",
    isDraft: false,
    mergeId: randomUUID(),
    lastMergeSourceCommit: commitRef(ctx),
    lastMergeTargetCommit: commitRef(ctx),
    ...(kind !== "created" ? { lastMergeCommit: commitRef(ctx) } : {}),
    reviewers: PEOPLE.slice(1, 4).map((p, i) => ({
      reviewerUrl: `${String(repo.url)}/pullRequests/${pullRequestId}/reviewers/${p.id}`,
      vote: kind === "created" ? 0 : votes[i],
      hasDeclined: false,
      isRequired: i === 0,
      isFlagged: false,
      ...identity(ctx, p),
    })),
    commits: Array.from({ length: commitCount }, (_, i) => commit(ctx, i)),
    labels: [{ id: randomUUID(), name: "payments", active: true }],
    url: `${String(repo.url)}/pullRequests/${pullRequestId}`,
    _links: {
      web: { href: `${String(repo.webUrl)}/pullrequest/${pullRequestId}` },
      statuses: { href: `${String(repo.url)}/pullRequests/${pullRequestId}/statuses` },
    },
    supportsIterations: true,
    artifactId: `vstfs:///Git/PullRequestId/${ctx.project.id}%2f${String(repo.id)}%2f${pullRequestId}`,
  };
}

function gitPullRequest(ctx: Ctx, kind: PrKind, commitCount: number) {
  const pr = pullRequest(ctx, kind, commitCount);
  const who = kind === "created" ? PEOPLE[0] : PEOPLE[1];
  const verb =
    kind === "created"
      ? "created a new pull request"
      : kind === "merged"
        ? "has merged the pull request"
        : "marked the pull request as approved";
  const url = (pr._links as { web: { href: string } }).web.href;
  return {
    ...messages(
      `${who.displayName} ${verb} ${String(pr.pullRequestId)} (${String(pr.title)}) in ${ctx.project.name}`,
      `${who.displayName} ${verb} [${String(pr.pullRequestId)}](${url}) (${String(pr.title)}) in [${ctx.project.name}](${url})`,
    ),
    resource: pr,
  };
}

function prComment(ctx: Ctx, commitCount: number) {
  const pr = pullRequest(ctx, "updated", commitCount);
  const author = PEOPLE[2];
  const url = (pr._links as { web: { href: string } }).web.href;
  return {
    ...messages(
      `${author.displayName} has commented on a pull request`,
      `[${author.displayName}](mailto:${author.uniqueName}) [commented](${url}) on pull request ${String(pr.pullRequestId)}`,
    ),
    resource: {
      comment: {
        id: 2,
        parentCommentId: 1,
        author: identity(ctx, author),
        content: "This is my comment. Could we cap the back-off at 20 s instead? The gateway's SLA is 30 s.",
        publishedDate: iso(ctx.now),
        lastUpdatedDate: iso(ctx.now),
        lastContentUpdatedDate: iso(ctx.now),
        commentType: "text",
        usersLiked: [],
        _links: {
          self: { href: `${String(pr.url)}/threads/21/comments/2` },
          repository: { href: String((pr.repository as { url: string }).url) },
          threads: { href: `${String(pr.url)}/threads/21` },
        },
      },
      pullRequest: pr,
    },
  };
}

// ---------- work items ----------

function workItemFields(ctx: Ctx, id: number, rev: number, historyText: string): Record<string, unknown> {
  const creator = PEOPLE[0];
  return {
    "System.AreaPath": `${ctx.project.name}\\Payments`,
    "System.TeamProject": ctx.project.name,
    "System.IterationPath": `${ctx.project.name}\\Sprint 42`,
    "System.WorkItemType": "Bug",
    "System.State": "New",
    "System.Reason": "New defect reported",
    "System.CreatedDate": iso(ctx.now, -60),
    "System.CreatedBy": `${creator.displayName} <${creator.uniqueName}>`,
    "System.ChangedDate": iso(ctx.now),
    "System.ChangedBy": `${creator.displayName} <${creator.uniqueName}>`,
    "System.AssignedTo": `${PEOPLE[2].displayName} <${PEOPLE[2].uniqueName}>`,
    "System.Title": "Some great new idea!",
    "System.Tags": "payments; customer-reported",
    "System.Rev": rev,
    "System.Id": id,
    "Microsoft.VSTS.Common.Severity": "3 - Medium",
    "Microsoft.VSTS.Common.Priority": 2,
    "Microsoft.VSTS.Common.ValueArea": "Business",
    "Microsoft.VSTS.TCM.ReproSteps":
      "<div>1. Open the checkout page<br/>2. Pay with a card that needs 3-D Secure<br/>3. Close the challenge window</div><div>Expected: the order is cancelled. Actual: the order stays pending forever.</div>",
    "System.History": historyText,
  };
}

function workItemLinks(ctx: Ctx, id: number): Record<string, unknown> {
  const u = `${ctx.baseUrl}_apis/wit/workItems/${id}`;
  return {
    self: { href: u },
    workItemUpdates: { href: `${u}/updates` },
    workItemRevisions: { href: `${u}/revisions` },
    workItemType: { href: `${ctx.baseUrl}_apis/wit/ea830882-2a3c-4095-a53f-972f9a376f6f/workItemTypes/Bug` },
    fields: { href: `${ctx.baseUrl}_apis/wit/fields` },
    html: { href: `${ctx.baseUrl}web/wi.aspx?pcguid=${COLLECTION_ID}&id=${id}` },
  };
}

function workItemEvent(ctx: Ctx, verb: "created" | "deleted" | "restored" | "commented") {
  const id = 5 + Math.floor(Math.random() * 90_000);
  const who = verb === "commented" ? PEOPLE[2] : PEOPLE[0];
  const history =
    verb === "commented" ? "This is a great new idea — let's pair on it after stand-up tomorrow." : "";
  const url = `${ctx.baseUrl}web/wi.aspx?pcguid=${COLLECTION_ID}&id=${id}`;
  const verbText = verb === "commented" ? "commented on" : verb;
  return {
    ...messages(
      `Bug #${id} (Some great new idea!) ${verbText} by ${who.displayName}.`,
      `[Bug ${id}](${url}) (Some great new idea!) ${verbText} by ${who.displayName}`,
    ),
    resource: {
      id,
      rev: 1,
      fields: workItemFields(ctx, id, 1, history),
      _links: workItemLinks(ctx, id),
      url: `${ctx.baseUrl}_apis/wit/workItems/${id}`,
    },
  };
}

function workItemUpdated(ctx: Ctx) {
  const workItemId = 5 + Math.floor(Math.random() * 90_000);
  const who = PEOPLE[2];
  const url = `${ctx.baseUrl}web/wi.aspx?pcguid=${COLLECTION_ID}&id=${workItemId}`;
  return {
    ...messages(
      `Bug #${workItemId} (Some great new idea!) updated by ${who.displayName}.\r\n(${url})`,
      `[Bug ${workItemId}](${url}) (Some great new idea!) updated by ${who.displayName}.\n\n- State: Approved → Committed`,
    ),
    resource: {
      id: 2,
      workItemId,
      rev: 2,
      revisedBy: identity(ctx, who),
      revisedDate: "9999-01-01T00:00:00Z",
      fields: {
        "System.Rev": { oldValue: 1, newValue: 2 },
        "System.AuthorizedDate": { oldValue: iso(ctx.now, -60), newValue: iso(ctx.now) },
        "System.RevisedDate": { oldValue: iso(ctx.now), newValue: "9999-01-01T00:00:00Z" },
        "System.State": { oldValue: "New", newValue: "Approved" },
        "System.Reason": { oldValue: "New defect reported", newValue: "Approved by the product owner" },
        "System.AssignedTo": { newValue: `${who.displayName} <${who.uniqueName}>` },
        "System.ChangedDate": { oldValue: iso(ctx.now, -60), newValue: iso(ctx.now) },
        "System.Watermark": { oldValue: 2, newValue: 3 },
        "Microsoft.VSTS.Common.Severity": { oldValue: "3 - Medium", newValue: "2 - High" },
      },
      _links: {
        self: { href: `${ctx.baseUrl}_apis/wit/workItems/${workItemId}/updates/2` },
        workItemUpdates: { href: `${ctx.baseUrl}_apis/wit/workItems/${workItemId}/updates` },
        parent: { href: `${ctx.baseUrl}_apis/wit/workItems/${workItemId}` },
      },
      url: `${ctx.baseUrl}_apis/wit/workItems/${workItemId}/updates/2`,
      revision: {
        id: workItemId,
        rev: 2,
        fields: workItemFields(ctx, workItemId, 2, ""),
        url: `${ctx.baseUrl}_apis/wit/workItems/${workItemId}/revisions/2`,
      },
    },
  };
}

// ---------- build, tfvc ----------

function buildComplete(ctx: Ctx) {
  const id = 100 + Math.floor(Math.random() * 100_000);
  const buildNumber = `ConsumerAddressModule_20260122.${id % 20}`;
  const u = `${ctx.baseUrl}${ctx.project.id}/_apis/build/Builds/${id}`;
  const requester = PEOPLE[0];
  return {
    ...messages(
      `Build ${buildNumber} succeeded`,
      `Build [${buildNumber}](${ctx.baseUrl}web/build.aspx?pcguid=${COLLECTION_ID}&builduri=vstfs%3a%2f%2f%2fBuild%2fBuild%2f${id}) succeeded`,
    ),
    resource: {
      uri: `vstfs:///Build/Build/${id}`,
      id,
      buildNumber,
      url: u,
      startTime: iso(ctx.now, -7),
      finishTime: iso(ctx.now),
      reason: "manual",
      status: "succeeded",
      result: "succeeded",
      dropLocation: "#/3/drop",
      drop: {
        location: "#/3/drop",
        type: "container",
        url: `${u}/artifacts/drop`,
        downloadUrl: `${u}/artifacts/drop/zip`,
      },
      log: { type: "container", url: `${u}/logs`, downloadUrl: `${u}/logs/zip` },
      sourceGetVersion: `LG:refs/heads/main:${hex(20)}`,
      sourceBranch: "refs/heads/main",
      lastChangedBy: identity(ctx, PEOPLE[4]),
      retainIndefinitely: false,
      hasDiagnostics: true,
      definition: {
        batchSize: 1,
        triggerType: "none",
        definitionType: "xaml",
        id: 2,
        name: "ConsumerAddressModule",
        url: `${ctx.baseUrl}${ctx.project.id}/_apis/build/Definitions/2`,
      },
      queue: {
        queueType: "buildController",
        id: 4,
        name: "Hosted Build Controller",
        url: `${ctx.baseUrl}_apis/build/Queues/4`,
      },
      requests: [
        {
          id: 1,
          url: `${ctx.baseUrl}${ctx.project.id}/_apis/build/Requests/1`,
          requestedFor: identity(ctx, requester),
        },
      ],
      project: projectRef(ctx),
    },
  };
}

function tfvcCheckin(ctx: Ctx) {
  const changesetId = 10 + Math.floor(Math.random() * 50_000);
  const author = PEOPLE[3];
  const u = `${ctx.baseUrl}web/cs.aspx?pcguid=${COLLECTION_ID}&cs=${changesetId}`;
  return {
    ...messages(
      `${author.displayName} checked in changeset ${changesetId}: Dropping in new Java sample`,
      `${author.displayName} checked in changeset [${changesetId}](${u}): Dropping in new Java sample`,
    ),
    resource: {
      changesetId,
      url: `${ctx.baseUrl}_apis/tfvc/changesets/${changesetId}`,
      author: identity(ctx, author),
      checkedInBy: identity(ctx, author),
      createdDate: iso(ctx.now),
      comment: "Dropping in new Java sample",
      changes: [
        {
          item: { path: `$/${ctx.project.name}/samples/java/App.java`, version: changesetId },
          changeType: "add",
        },
        {
          item: { path: `$/${ctx.project.name}/samples/java/pom.xml`, version: changesetId },
          changeType: "add",
        },
      ],
    },
  };
}

// ---------- release management ----------

function releaseDefinition(ctx: Ctx): Record<string, unknown> {
  return {
    id: 1,
    name: "Fabrikam.CD",
    path: "\\",
    url: `${ctx.baseUrl}${ctx.project.id}/_apis/Release/definitions/1`,
    _links: { web: { href: `${ctx.baseUrl}${ctx.project.name}/_release?definitionId=1` } },
  };
}

function releaseEnvironment(ctx: Ctx, releaseId: number, status: string): Record<string, unknown> {
  const approver = identity(ctx, PEOPLE[1]);
  return {
    id: 5,
    releaseId,
    name: "Dev",
    status,
    variables: { "Deployment.Slot": { value: "staging" }, "Azure.Region": { value: "westeurope" } },
    variableGroups: [],
    preDeployApprovals: [
      {
        id: 17,
        revision: 2,
        approvalType: "preDeploy",
        status: "approved",
        comments: "Looks good, ship it.",
        isAutomated: false,
        approver,
        approvedBy: approver,
        createdOn: iso(ctx.now, -30),
        modifiedOn: iso(ctx.now, -20),
      },
    ],
    postDeployApprovals: [],
    preApprovalsSnapshot: {
      approvals: [],
      approvalOptions: { requiredApproverCount: 1, releaseCreatorCanBeApprover: false },
    },
    deploySteps: [
      {
        id: 31,
        deploymentId: 12,
        attempt: 1,
        reason: "automated",
        status: status === "inProgress" ? "inProgress" : "succeeded",
        operationStatus: "Approved",
        requestedBy: identity(ctx, PEOPLE[0]),
        queuedOn: iso(ctx.now, -25),
        lastModifiedOn: iso(ctx.now),
        releaseDeployPhases: [
          {
            id: 41,
            phaseId: "1",
            name: "Agent job",
            rank: 1,
            phaseType: "agentBasedDeployment",
            status: "succeeded",
            deploymentJobs: [
              {
                job: {
                  id: 1,
                  name: "Release",
                  status: "succeeded",
                  startTime: iso(ctx.now, -10),
                  finishTime: iso(ctx.now),
                },
                tasks: [
                  { id: 1, name: "Initialize job", status: "succeeded", rank: 1 },
                  { id: 2, name: "Download artifact - _Fabrikam.CI - drop", status: "succeeded", rank: 2 },
                  { id: 3, name: "Azure App Service deploy: fabrikam-web-dev", status: "succeeded", rank: 3 },
                  { id: 4, name: "Finalize Job", status: "succeeded", rank: 4 },
                ],
              },
            ],
          },
        ],
      },
    ],
    rank: 1,
    definitionEnvironmentId: 1,
    queueId: 1,
    environmentOptions: {
      emailNotificationType: "OnlyOnFailure",
      skipArtifactsDownload: false,
      timeoutInMinutes: 0,
    },
    demands: [],
    conditions: [{ name: "ReleaseStarted", conditionType: "event", value: "" }],
    workflowTasks: [],
    deployPhasesSnapshot: [],
    owner: identity(ctx, PEOPLE[0]),
    scheduledDeploymentTime: null,
    schedules: [],
    release: {
      id: releaseId,
      name: `Release-${releaseId}`,
      url: `${ctx.baseUrl}${ctx.project.id}/_apis/Release/releases/${releaseId}`,
    },
    releaseDefinition: releaseDefinition(ctx),
  };
}

function release(ctx: Ctx, releaseId: number): Record<string, unknown> {
  return {
    id: releaseId,
    name: `Release-${releaseId}`,
    status: "active",
    createdOn: iso(ctx.now, -35),
    modifiedOn: iso(ctx.now),
    modifiedBy: identity(ctx, PEOPLE[0]),
    createdBy: identity(ctx, PEOPLE[0]),
    environments: [releaseEnvironment(ctx, releaseId, "notStarted")],
    variables: {},
    variableGroups: [],
    artifacts: [
      {
        sourceId: `${ctx.project.id}:1`,
        type: "Build",
        alias: "_Fabrikam.CI",
        definitionReference: {
          definition: { id: "1", name: "Fabrikam.CI" },
          version: { id: "118", name: "20260122.2" },
          branch: { id: "refs/heads/main", name: "refs/heads/main" },
          project: { id: ctx.project.id, name: ctx.project.name },
        },
        isPrimary: true,
      },
    ],
    releaseDefinition: releaseDefinition(ctx),
    description: "Deploys the nightly build to Dev and Staging",
    reason: "continuousIntegration",
    releaseNameFormat: "Release-$(rev:r)",
    keepForever: false,
    definitionSnapshotRevision: 7,
    logsContainerUrl: `${ctx.baseUrl}${ctx.project.id}/_apis/Release/releases/${releaseId}/logs`,
    url: `${ctx.baseUrl}${ctx.project.id}/_apis/Release/releases/${releaseId}`,
    _links: { web: { href: `${ctx.baseUrl}${ctx.project.name}/_release?releaseId=${releaseId}` } },
    tags: ["nightly"],
    projectReference: { id: ctx.project.id, name: ctx.project.name },
  };
}

function deploymentEvent(ctx: Ctx, kind: "started" | "completed") {
  const releaseId = 1 + Math.floor(Math.random() * 900);
  const env = releaseEnvironment(ctx, releaseId, kind === "completed" ? "succeeded" : "inProgress");
  const verb = kind === "completed" ? "Deployment of release" : "Deployment of release";
  const outcome = kind === "completed" ? "succeeded" : "started";
  return {
    ...messages(
      `${verb} Release-${releaseId} on environment Dev ${outcome}.`,
      `${verb} [Release-${releaseId}](${ctx.baseUrl}${ctx.project.name}/_release?releaseId=${releaseId}) on environment Dev ${outcome}.`,
    ),
    resource: {
      environment: env,
      release: release(ctx, releaseId),
      project: { id: ctx.project.id, name: ctx.project.name },
      ...(kind === "completed"
        ? {
            deployment: {
              id: 12,
              release: { id: releaseId, name: `Release-${releaseId}` },
              releaseDefinition: releaseDefinition(ctx),
              releaseEnvironment: { id: 5, name: "Dev" },
              attempt: 1,
              reason: "automated",
              deploymentStatus: "succeeded",
              operationStatus: "Approved",
              requestedBy: identity(ctx, PEOPLE[0]),
              startedOn: iso(ctx.now, -10),
              completedOn: iso(ctx.now),
            },
            comment: "Deployed to Dev without incident",
          }
        : {}),
    },
  };
}

function releaseCreated(ctx: Ctx) {
  const releaseId = 1 + Math.floor(Math.random() * 900);
  return {
    ...messages(
      `Release Release-${releaseId} created.`,
      `Release [Release-${releaseId}](${ctx.baseUrl}${ctx.project.name}/_release?releaseId=${releaseId}) created.`,
    ),
    resource: { release: release(ctx, releaseId), project: { id: ctx.project.id, name: ctx.project.name } },
  };
}

// ---------- pipelines ----------

function pipelineRef(ctx: Ctx): Record<string, unknown> {
  return {
    url: `${ctx.baseUrl}${ctx.project.id}/_apis/Pipelines/4?revision=2`,
    id: 4,
    revision: 2,
    name: "Fabrikam.CI",
    folder: "\\",
  };
}

function run(ctx: Ctx, runId: number, state: string, result?: string): Record<string, unknown> {
  const u = `${ctx.baseUrl}${ctx.project.id}/_apis/Pipelines/4/runs/${runId}`;
  return {
    _links: {
      self: { href: u },
      web: { href: `${ctx.baseUrl}${ctx.project.id}/_build/results?buildId=${runId}` },
      "pipeline.web": { href: `${ctx.baseUrl}${ctx.project.id}/_build/definition?definitionId=4` },
      pipeline: { href: `${ctx.baseUrl}${ctx.project.id}/_apis/Pipelines/4?revision=2` },
    },
    pipeline: pipelineRef(ctx),
    state,
    ...(result ? { result } : {}),
    createdDate: iso(ctx.now, -6),
    ...(state === "completed" ? { finishedDate: iso(ctx.now) } : {}),
    url: u,
    resources: {
      repositories: {
        self: {
          repository: { id: "4bc14d40-c903-45e2-872e-0462c7748079", type: "azureReposGit" },
          refName: "refs/heads/main",
          version: hex(20),
        },
      },
    },
    variables: { "system.debug": { value: "false" } },
    id: runId,
    name: `20260122.${runId % 30}`,
  };
}

function runStateChanged(ctx: Ctx) {
  const runId = 100 + Math.floor(Math.random() * 100_000);
  const r = run(ctx, runId, "completed", "succeeded");
  return {
    ...messages(
      `Run ${String(r.name)} succeeded.`,
      `Run [${String(r.name)}](${(r._links as { web: { href: string } }).web.href}) succeeded.`,
    ),
    resource: {
      run: r,
      pipeline: pipelineRef(ctx),
      runId,
      runUrl: r.url,
      repositories: [
        {
          type: "Git",
          change: {
            author: { name: PEOPLE[0].displayName, email: PEOPLE[0].uniqueName, date: iso(ctx.now, -8) },
            committer: { name: PEOPLE[0].displayName, email: PEOPLE[0].uniqueName, date: iso(ctx.now, -8) },
            message: COMMIT_MESSAGES[1],
          },
          url: `${ctx.baseUrl}_git/${ctx.project.name}`,
        },
      ],
    },
  };
}

function stageStateChanged(ctx: Ctx) {
  const runId = 100 + Math.floor(Math.random() * 100_000);
  const r = run(ctx, runId, "inProgress");
  return {
    ...messages(
      `Run ${String(r.name)} stage Build succeeded.`,
      `Run [${String(r.name)}](${(r._links as { web: { href: string } }).web.href}) stage Build succeeded.`,
    ),
    resource: {
      stage: {
        _links: { web: { href: `${ctx.baseUrl}${ctx.project.id}/_build/results?buildId=${runId}` } },
        id: randomUUID(),
        name: "Build",
        displayName: "Build and test",
        state: "completed",
        result: "succeeded",
      },
      run: r,
      pipeline: pipelineRef(ctx),
      stageName: "Build",
      runId,
      runUrl: r.url,
    },
  };
}

// ---------- assembly ----------

type Built = Pick<AdoEvent, "resource" | "message" | "detailedMessage">;

function build(eventType: string, ctx: Ctx, commitCount: number): Built {
  switch (eventType) {
    case "git.push":
      return gitPush(ctx, commitCount);
    case "git.pullrequest.created":
      return gitPullRequest(ctx, "created", commitCount);
    case "git.pullrequest.updated":
      return gitPullRequest(ctx, "updated", commitCount);
    case "git.pullrequest.merged":
      return gitPullRequest(ctx, "merged", commitCount);
    case "ms.vss-code.git-pullrequest-comment-event":
      return prComment(ctx, commitCount);
    case "workitem.created":
      return workItemEvent(ctx, "created");
    case "workitem.deleted":
      return workItemEvent(ctx, "deleted");
    case "workitem.restored":
      return workItemEvent(ctx, "restored");
    case "workitem.commented":
      return workItemEvent(ctx, "commented");
    case "workitem.updated":
      return workItemUpdated(ctx);
    case "build.complete":
      return buildComplete(ctx);
    case "tfvc.checkin":
      return tfvcCheckin(ctx);
    case "ms.vss-release.deployment-completed-event":
      return deploymentEvent(ctx, "completed");
    case "ms.vss-release.deployment-started-event":
      return deploymentEvent(ctx, "started");
    case "ms.vss-release.release-created-event":
      return releaseCreated(ctx);
    case "ms.vss-pipelines.run-state-changed-event":
      return runStateChanged(ctx);
    case "ms.vss-pipelines.stage-state-changed-event":
      return stageStateChanged(ctx);
    default:
      throw new Error(`sampleEvent: no sample for event type "${eventType}"`);
  }
}

/** Event types that grow by adding commits (the rest grow by a longer markdown message). */
const GROWS_BY_COMMITS = new Set([
  "git.push",
  "git.pullrequest.created",
  "git.pullrequest.updated",
  "git.pullrequest.merged",
  "ms.vss-code.git-pullrequest-comment-event",
]);

/** A fresh, realistic ADO service hook delivery of `eventType` (any type of EVENT_CATALOGUE). */
export function sampleEvent(eventType: string, overrides: SampleEventOverrides = {}): AdoEvent {
  const info = eventTypeInfo(eventType);
  if (!info) throw new Error(`sampleEvent: "${eventType}" is not in EVENT_CATALOGUE`);
  const { org = "fabrikam", project = DEFAULT_PROJECT, resource, targetBytes, ...fields } = overrides;
  const baseUrl = `https://dev.azure.com/${org}/`;
  const ctx: Ctx = { org, baseUrl, project, projectUrl: `${baseUrl}${project.id}/`, now: new Date() };

  // A size target starts from one commit so that small targets (4 KB) can be met, then grows.
  let commitCount = targetBytes !== undefined ? 1 : 3;
  let built = build(eventType, ctx, commitCount);
  const assemble = (b: Built): AdoEvent => ({
    subscriptionId: randomUUID(),
    notificationId: 1 + Math.floor(Math.random() * 100_000),
    id: randomUUID(),
    eventType,
    publisherId: info.publisherId,
    message: b.message,
    detailedMessage: b.detailedMessage,
    resource: { ...b.resource, ...resource },
    resourceVersion: info.resourceVersion,
    resourceContainers: {
      collection: { id: COLLECTION_ID, baseUrl },
      account: { id: "f844ec47-a9db-4511-8281-8b63f4eaf94e", baseUrl },
      // The ms.vss-release.* samples carry only collection and account (events.md).
      ...(info.publisherId === "rm" ? {} : { project: { id: project.id, baseUrl } }),
    },
    createdDate: ctx.now.toISOString(),
    ...fields,
  });
  let event = assemble(built);
  if (targetBytes !== undefined) {
    let size = Buffer.byteLength(JSON.stringify(event));
    if (GROWS_BY_COMMITS.has(eventType)) {
      while (size < targetBytes && commitCount < 500) {
        commitCount = Math.max(commitCount + 1, Math.ceil((commitCount * targetBytes) / size));
        built = build(eventType, ctx, commitCount);
        event = assemble(built);
        size = Buffer.byteLength(JSON.stringify(event));
      }
    }
    let n = 0;
    while (size < targetBytes) {
      const line = `\n- ${COMMIT_MESSAGES[n++ % COMMIT_MESSAGES.length]} (${hex(4)})`;
      const dm = event.detailedMessage ?? {};
      event.detailedMessage = { ...dm, markdown: (dm.markdown ?? "") + line, text: (dm.text ?? "") + line };
      size += 2 * Buffer.byteLength(line);
    }
  }
  return event;
}

/** Every catalogue event type, each with a fresh sample. */
export function sampleEveryEvent(overrides: SampleEventOverrides = {}): AdoEvent[] {
  return EVENT_CATALOGUE.map((e) => sampleEvent(e.eventType, overrides));
}
