import { formatHelp, parseArgs, validateStackName, type CommandSpec } from "../../scripts/lib/args";

const spec: CommandSpec = {
  usage: "npm run rotate -- --stack <env> --credential <c>",
  summary: "Rotates a credential.",
  options: [
    { name: "stack", type: "string", required: true, valueName: "<env>", description: "Stack." },
    {
      name: "credential",
      type: "string",
      required: true,
      choices: ["url-token", "pat"],
      description: "Which.",
    },
    { name: "emergency", type: "boolean", description: "Overlap 0." },
    { name: "apply", type: "boolean", default: true, description: "Apply after." },
  ],
};

describe("parseArgs", () => {
  it("reads --name value, --name=value, switches, --no-switch and passthrough after --", () => {
    const r = parseArgs(spec, [
      "--stack",
      "dev",
      "--credential=pat",
      "--emergency",
      "--no-apply",
      "--",
      "--diff",
    ]);
    expect(r).toEqual({
      kind: "ok",
      values: { stack: "dev", credential: "pat", emergency: true, apply: false },
      passthrough: ["--diff"],
    });
  });

  it("applies defaults for absent options", () => {
    const r = parseArgs(spec, ["--stack", "dev", "--credential", "url-token"]);
    expect(r).toEqual({
      kind: "ok",
      values: { stack: "dev", credential: "url-token", apply: true },
      passthrough: [],
    });
  });

  it("reports every problem at once, each once", () => {
    const r = parseArgs(spec, ["--credential", "password", "--bogus", "stray", "--stack"]);
    expect(r).toEqual({
      kind: "error",
      errors: [
        '--credential must be one of url-token, pat (got "password")',
        "unknown option --bogus (see --help)",
        'unexpected argument "stray" (options start with --; see --help)',
        "--stack needs a value",
      ],
    });
  });

  it("names a missing required option and what it is for", () => {
    expect(parseArgs(spec, ["--stack", "dev"])).toEqual({
      kind: "error",
      errors: ["--credential is required (Which.)"],
    });
  });

  it("treats --help and -h as help wherever they appear", () => {
    expect(parseArgs(spec, ["--stack", "dev", "--help"]).kind).toBe("help");
    expect(parseArgs(spec, ["-h"]).kind).toBe("help");
  });

  it("rejects an empty value and a switch given a value", () => {
    expect(parseArgs(spec, ["--stack=", "--credential", "pat"])).toMatchObject({
      errors: ["--stack must not be empty"],
    });
    expect(parseArgs(spec, ["--stack", "d", "--credential", "pat", "--emergency=yes"])).toMatchObject({
      kind: "error",
    });
  });
});

describe("formatHelp", () => {
  it("lists usage, every option with its placeholder, requirement and default, and --help", () => {
    const help = formatHelp(spec);
    expect(help.split("\n")[0]).toBe("Usage: npm run rotate -- --stack <env> --credential <c>");
    expect(help).toMatch(/--stack <env>\s+Stack\. \(required\)/);
    expect(help).toMatch(/--credential url-token\|pat\s+Which\. \(required\)/);
    expect(help).toMatch(/--apply\s+Apply after\. \(default: true\)/);
    expect(help).toMatch(/--help\s+Show this help and exit\./);
  });
});

describe("validateStackName", () => {
  it("accepts Pulumi stack names and rejects paths and spaces", () => {
    expect(validateStackName("dev")).toBeUndefined();
    expect(validateStackName("contoso/hookfleet/prod")).toBeUndefined();
    expect(validateStackName("../etc")).toMatch(/invalid stack name/);
    expect(validateStackName("my stack")).toMatch(/invalid stack name/);
  });
});
