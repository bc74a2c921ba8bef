/** Name helpers: valid per Azure's rules, stable per stack, different between stacks. */
import {
  containerAppSecretNameRule,
  keyVaultSecretNameRule,
  nameRules,
  receiverResourceNames,
  resourceName,
  sanitizeBaseName,
  secretNameFor,
  stableGuid,
  stackSuffix,
  type NameKind,
} from "../../components/receiver/names";

const kinds = Object.keys(nameRules) as NameKind[];
const awkwardBases = [
  "receiver",
  "Receiver",
  "rx",
  "a",
  "9lives",
  "--edge--case--",
  "under_score.and.dots",
  "Übergrößen-Empfänger",
  "a-very-long-component-name-that-goes-on-and-on-well-past-every-azure-limit-we-know-of",
  "x".repeat(300),
];

describe("stackSuffix", () => {
  it("is 6 lower-case alphanumerics", () => {
    expect(stackSuffix("hookfleet", "prod")).toMatch(/^[a-z0-9]{6}$/);
  });
  it("is stable for a project and stack", () => {
    expect(stackSuffix("hookfleet", "prod")).toBe(stackSuffix("hookfleet", "prod"));
  });
  it("differs between stacks and between projects", () => {
    const suffixes = new Set(
      ["dev", "staging", "prod", "sandbox"].flatMap((stack) =>
        ["hookfleet", "other"].map((project) => stackSuffix(project, stack)),
      ),
    );
    expect(suffixes.size).toBe(8);
  });
  it("does not confuse project/stack boundaries", () => {
    expect(stackSuffix("hook", "fleet/prod")).not.toBe(stackSuffix("hook/fleet", "prod"));
  });
});

describe("resourceName", () => {
  it.each(kinds)("gives a valid %s name for any base name", (kind) => {
    const rule = nameRules[kind];
    for (const base of awkwardBases) {
      const name = resourceName(kind, base, stackSuffix("hookfleet", "prod"));
      expect({ base, name, ok: rule.pattern.test(name) }).toEqual({ base, name, ok: true });
      expect(name.length).toBeLessThanOrEqual(rule.maxLength);
      expect(name.length).toBeGreaterThanOrEqual(rule.minLength);
      expect(name).not.toContain("--");
      expect(name).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    }
  });
  it("keeps Key Vault names within 24 characters, starting with a letter", () => {
    const name = resourceName("keyVault", "a-very-long-component-name", "k2x9qa");
    expect(name).toBe("a-very-long-co-kv-k2x9qa");
    expect(name).toHaveLength(24);
  });
  it("keeps Cosmos DB account names within 44 lower-case characters", () => {
    const name = resourceName("cosmosAccount", "Receiver_" + "X".repeat(60), "k2x9qa");
    expect(name.length).toBeLessThanOrEqual(44);
    expect(name).toMatch(/^receiver-x+-cosmos-k2x9qa$/);
  });
  it("keeps Container App names within 32 lower-case characters", () => {
    expect(resourceName("containerApp", "x".repeat(40), "k2x9qa")).toHaveLength(32);
  });
  it("makes the globally unique names differ between stacks", () => {
    const prod = receiverResourceNames("receiver", stackSuffix("hookfleet", "prod"));
    const dev = receiverResourceNames("receiver", stackSuffix("hookfleet", "dev"));
    expect(prod.cosmosAccount).not.toBe(dev.cosmosAccount);
    expect(prod.keyVault).not.toBe(dev.keyVault);
  });
  it("refuses a suffix that would make an invalid name", () => {
    expect(() => resourceName("keyVault", "rx", "BAD_SUFFIX")).toThrow(/cannot derive a valid keyVault name/);
  });
});

describe("rules catch invalid names (so the checks above mean something)", () => {
  it.each([
    ["keyVault", "1starts-with-digit"],
    ["keyVault", "has--double-hyphen"],
    ["keyVault", "ends-with-hyphen-"],
    ["cosmosAccount", "Upper-Case"],
    ["cosmosAccount", "under_score"],
    ["containerApp", "Upper"],
    ["logAnalyticsWorkspace", "-leading"],
  ] as [NameKind, string][])("%s rejects %s", (kind, name) => {
    expect(nameRules[kind].pattern.test(name)).toBe(false);
  });
});

describe("sanitizeBaseName", () => {
  it("lower-cases, collapses separators and starts with a letter", () => {
    expect(sanitizeBaseName("My__Receiver..App")).toBe("my-receiver-app");
    expect(sanitizeBaseName("42")).toBe("h42");
    expect(sanitizeBaseName("---")).toBe("h");
  });
});

describe("secretNameFor", () => {
  it("turns setting names into names valid in Key Vault and Container Apps", () => {
    expect(secretNameFor("HOOKFLEET_URL_TOKENS")).toBe("hookfleet-url-tokens");
    expect(secretNameFor("ado-pat")).toBe("ado-pat");
    for (const key of ["HOOKFLEET_SYSTEMS", "Ado PAT", "x"]) {
      const name = secretNameFor(key);
      expect(name).toMatch(keyVaultSecretNameRule);
      expect(name).toMatch(containerAppSecretNameRule);
    }
  });
  it("refuses a key with no usable characters", () => {
    expect(() => secretNameFor("___")).toThrow(/cannot be turned into a valid secret name/);
  });
});

describe("stableGuid", () => {
  it("is an RFC 4122 name-based GUID, stable for the same parts", () => {
    const guid = stableGuid("hookfleet", "prod", "receiver", "cosmos-data-contributor");
    expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableGuid("hookfleet", "prod", "receiver", "cosmos-data-contributor")).toBe(guid);
  });
  it("differs when any part differs, including where parts split", () => {
    const base = stableGuid("hookfleet", "prod", "receiver");
    expect(stableGuid("hookfleet", "dev", "receiver")).not.toBe(base);
    expect(stableGuid("hookfleetprod", "", "receiver")).not.toBe(base);
  });
});
