/**
 * Microsoft's own KQL parser and binder (Kusto.Language, shipped as @kusto/language-service-next)
 * over the two Log Analytics tables our spans land in, so the alert and dashboard queries are
 * checked by something we did not write: syntax, functions, and every column they name.
 *
 * Columns: the Azure Monitor table reference (learn.microsoft.com/azure/azure-monitor/reference/
 * tables/apprequests and …/appdependencies), the ones a query might use.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- Bridge.NET output: global scripts, loaded by require for their side effect */
require("@kusto/language-service-next/bridge.js");
require("@kusto/language-service-next");
/* eslint-enable @typescript-eslint/no-require-imports */

const common =
  "TimeGenerated:datetime, Id:string, Name:string, Success:bool, ResultCode:string, DurationMs:real, " +
  "ItemCount:int, Properties:dynamic, Measurements:dynamic, OperationId:string, OperationName:string, " +
  "ParentId:string, AppRoleName:string, AppRoleInstance:string, AppVersion:string, SDKVersion:string, " +
  "_ResourceId:string";

export const workspaceTables = {
  AppRequests: `(${common}, Url:string, Source:string)`,
  AppDependencies: `(${common}, Target:string, DependencyType:string, Data:string)`,
} as const;

/* eslint-disable @typescript-eslint/no-explicit-any -- the Bridge.NET API has no usable typings for globals */
const K = (globalThis as any).Kusto;

function globals(): any {
  const S = K.Language.Symbols;
  const tables = Object.entries(workspaceTables).map(
    ([name, schema]) => new S.TableSymbol.$ctor7(name, schema, null),
  );
  return K.Language.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.$ctor2("workspace", null, tables));
}

export interface KqlAnalysis {
  /** Error diagnostics (syntax, unknown names, type errors). */
  errors: string[];
  /** Result columns name → type, when the query is tabular. */
  columns: Record<string, string>;
}

let cached: any;
export function analyzeKql(query: string): KqlAnalysis {
  cached ??= globals();
  const code = K.Language.KustoCode.ParseAndAnalyze(query, cached);
  const diagnostics = code.GetDiagnostics();
  const errors: string[] = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (String(d.Severity) === "Error") errors.push(`${d.Message} (at ${d.Start})`);
  }
  const columns: Record<string, string> = {};
  const rt = code.ResultType;
  if (rt && rt.Columns)
    for (let i = 0; i < rt.Columns.Count; i++) {
      const c = rt.Columns.getItem(i);
      columns[c.Name] = c.Type.Name;
    }
  return { errors, columns };
}
/* eslint-enable @typescript-eslint/no-explicit-any */
