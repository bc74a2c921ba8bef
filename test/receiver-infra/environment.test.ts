/**
 * receiverEnvironment: the Container App env derived from a settings schema. Uses made-up schemas
 * to show what happens when app/settings.ts grows, and the real one for today's contract.
 */
import { receiverSettings, type SettingSpec } from "../../app/settings";
import { receiverEnvironment } from "../../components/receiver/environment";

const plain = (extra: Partial<SettingSpec> = {}): SettingSpec => ({
  description: "test",
  requiredInProduction: false,
  source: "plain",
  ...extra,
});
const secret = (extra: Partial<SettingSpec> = {}): SettingSpec => ({ ...plain(extra), source: "secret" });

describe("receiverEnvironment", () => {
  it("writes plain settings as values and secret settings as references", () => {
    const env = receiverEnvironment(
      { MODE: plain({ requiredInProduction: true }), TOKENS: secret({ requiredInProduction: true }) },
      { plain: { MODE: "production" }, secrets: new Set(["TOKENS"]) },
    );
    expect(env).toEqual([
      { name: "MODE", value: "production" },
      { name: "TOKENS", secretRef: "tokens" },
    ]);
  });

  it("picks up a new plain setting through its default without code changes", () => {
    const env = receiverEnvironment(
      { MODE: plain(), NEW_TIMEOUT_MS: plain({ requiredInProduction: true, default: "5000" }) },
      { plain: { MODE: "production" }, secrets: new Set() },
    );
    expect(env).toContainEqual({ name: "NEW_TIMEOUT_MS", value: "5000" });
  });

  it("leaves optional settings without value or default unset", () => {
    const env = receiverEnvironment(
      { METRICS_PORT: plain(), COSMOS_KEY: secret() },
      { plain: {}, secrets: new Set() },
    );
    expect(env).toEqual([]);
  });

  it("fails loudly when a new required setting has no source", () => {
    expect(() =>
      receiverEnvironment(
        { NEW_REQUIRED: plain({ requiredInProduction: true }) },
        { plain: {}, secrets: new Set() },
      ),
    ).toThrow(/NEW_REQUIRED is required in production/);
    expect(() =>
      receiverEnvironment(
        { NEW_SECRET: secret({ requiredInProduction: true }) },
        { plain: {}, secrets: new Set() },
      ),
    ).toThrow(/NEW_SECRET is required in production/);
  });

  it("refuses a secret setting given as a plain value", () => {
    expect(() =>
      receiverEnvironment({ TOKENS: secret() }, { plain: { TOKENS: "[]" }, secrets: new Set() }),
    ).toThrow(/TOKENS is a secret/);
  });

  it("refuses a plain setting given as a secret, and settings the schema does not know", () => {
    expect(() => receiverEnvironment({ MODE: plain() }, { plain: {}, secrets: new Set(["MODE"]) })).toThrow(
      /MODE is plain/,
    );
    expect(() =>
      receiverEnvironment({ MODE: plain() }, { plain: { MOOD: "x" }, secrets: new Set() }),
    ).toThrow(/MOOD is not in app\/settings\.ts/);
  });

  it("covers today's schema: every required setting set, no secret inline", () => {
    const specs: Record<string, SettingSpec> = receiverSettings;
    const secrets = new Set(
      Object.keys(specs).filter((k) => specs[k].source === "secret" && specs[k].requiredInProduction),
    );
    const required = Object.keys(specs).filter(
      (k) => specs[k].requiredInProduction && specs[k].source === "plain",
    );
    const env = receiverEnvironment(specs, {
      plain: Object.fromEntries(required.map((k) => [k, `value-of-${k}`])),
      secrets,
    });
    for (const name of Object.keys(specs).filter((k) => specs[k].requiredInProduction)) {
      expect(env.find((e) => e.name === name)).toBeDefined();
    }
    for (const entry of env) {
      if (specs[entry.name].source === "secret")
        expect(entry).toEqual({ name: entry.name, secretRef: expect.any(String) });
    }
  });
});
