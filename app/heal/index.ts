/** The heal job's public surface: the run, its report, its settings and the command. */
export {
  analyzeHistory,
  consumerPrefix,
  fillMissingDetails,
  reenableInput,
  runHeal,
  targetOf,
  type HealOptions,
  type HealPolicy,
  type HealReport,
  type HookHealResult,
  type OrgHealResult,
} from "./heal";
export { formatDuration, formatHealReport } from "./report";
export { healReceiverSettingNames, healSettings, type HealSettingName } from "./settings";
export { HEAL_HELP, healFailedLine, loadHealConfig, parseHealArgs, runHealCli, type HealConfig } from "./cli";
