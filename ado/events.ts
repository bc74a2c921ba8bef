/**
 * The ADO service hook event catalogue HookFleet supports (azure-devops-facts.md, from
 * MicrosoftDocs service-hooks/events.md). One table, used by the hooks component (publisher and
 * resource version per event type), the receiver (projections) and the ADO emulator (validation).
 */

export type PublisherId = "tfs" | "rm" | "pipelines";

export interface EventTypeInfo {
  /** ADO publisher that raises the event. */
  publisherId: PublisherId;
  /** Event type id, e.g. `git.push`. */
  eventType: string;
  /** resourceVersion a subscription asks for. */
  resourceVersion: string;
  /** Publisher input filters the event accepts besides `projectId`. */
  filters: readonly string[];
}

const prFilters = ["repository", "branch", "pullrequestCreatedBy", "pullrequestReviewersContains"] as const;
const workItemFilters = ["areaPath", "workItemType", "tag"] as const;

export const EVENT_CATALOGUE: readonly EventTypeInfo[] = [
  {
    publisherId: "tfs",
    eventType: "git.push",
    resourceVersion: "1.0",
    filters: ["repository", "branch", "pushedBy"],
  },
  { publisherId: "tfs", eventType: "git.pullrequest.created", resourceVersion: "1.0", filters: prFilters },
  {
    publisherId: "tfs",
    eventType: "git.pullrequest.updated",
    resourceVersion: "1.0",
    filters: [...prFilters, "notificationType"],
  },
  {
    publisherId: "tfs",
    eventType: "git.pullrequest.merged",
    resourceVersion: "1.0",
    filters: [...prFilters, "mergeResult"],
  },
  {
    publisherId: "tfs",
    eventType: "ms.vss-code.git-pullrequest-comment-event",
    resourceVersion: "2.0",
    filters: ["repository", "branch"],
  },
  { publisherId: "tfs", eventType: "workitem.created", resourceVersion: "1.0", filters: workItemFilters },
  { publisherId: "tfs", eventType: "workitem.deleted", resourceVersion: "1.0", filters: workItemFilters },
  { publisherId: "tfs", eventType: "workitem.restored", resourceVersion: "1.0", filters: workItemFilters },
  {
    publisherId: "tfs",
    eventType: "workitem.updated",
    resourceVersion: "1.0",
    filters: [...workItemFilters, "changedFields"],
  },
  {
    publisherId: "tfs",
    eventType: "workitem.commented",
    resourceVersion: "1.0",
    filters: [...workItemFilters, "commentPattern"],
  },
  {
    publisherId: "tfs",
    eventType: "build.complete",
    resourceVersion: "1.0",
    filters: ["definitionName", "buildStatus"],
  },
  { publisherId: "tfs", eventType: "tfvc.checkin", resourceVersion: "1.0", filters: ["path"] },
  {
    publisherId: "rm",
    eventType: "ms.vss-release.deployment-completed-event",
    resourceVersion: "3.0-preview.1",
    filters: ["releaseDefinitionId", "releaseEnvironmentId", "releaseEnvironmentStatus"],
  },
  {
    publisherId: "rm",
    eventType: "ms.vss-release.deployment-started-event",
    resourceVersion: "3.0-preview.1",
    filters: ["releaseDefinitionId"],
  },
  {
    publisherId: "rm",
    eventType: "ms.vss-release.release-created-event",
    resourceVersion: "3.0-preview.1",
    filters: ["releaseDefinitionId"],
  },
  {
    publisherId: "pipelines",
    eventType: "ms.vss-pipelines.run-state-changed-event",
    resourceVersion: "5.1-preview.1",
    filters: ["pipelineId", "runStateId", "runResultId"],
  },
  {
    publisherId: "pipelines",
    eventType: "ms.vss-pipelines.stage-state-changed-event",
    resourceVersion: "5.1-preview.1",
    filters: ["pipelineId", "stageNameId", "stageStateId", "stageResultId"],
  },
];

const byEventType = new Map(EVENT_CATALOGUE.map((e) => [e.eventType, e]));

/** The catalogue entry for an event type, or undefined when HookFleet does not know it. */
export function eventTypeInfo(eventType: string): EventTypeInfo | undefined {
  return byEventType.get(eventType);
}

/** Defaults when a stack names no event types: push, PRs, work items, builds, deployments. */
export const DEFAULT_EVENT_TYPES: readonly string[] = [
  "git.push",
  "git.pullrequest.created",
  "git.pullrequest.updated",
  "git.pullrequest.merged",
  "workitem.created",
  "workitem.updated",
  "build.complete",
  "ms.vss-release.deployment-completed-event",
];
