import {
  TOKEN_LENGTH,
  checksumBase62,
  digestEquals,
  isWellFormedToken,
  mintPassword,
  mintToken,
  sha256Hex,
} from "../../app/tokens";

describe("tokens", () => {
  it("mints alw_ tokens of 40 characters that pass their own checksum", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const t = mintToken();
      expect(t).toMatch(/^alw_[0-9A-Za-z]{36}$/);
      expect(t).toHaveLength(TOKEN_LENGTH);
      expect(isWellFormedToken(t)).toBe(true);
      seen.add(t);
    }
    expect(seen.size).toBe(500);
  });

  it("rejects a token with one character changed, a wrong prefix, wrong length or non-string", () => {
    const t = mintToken();
    const flipped = t.slice(0, 10) + (t[10] === "a" ? "b" : "a") + t.slice(11);
    expect(isWellFormedToken(flipped)).toBe(false);
    const badSum = t.slice(0, -1) + (t.endsWith("0") ? "1" : "0");
    expect(isWellFormedToken(badSum)).toBe(false);
    expect(isWellFormedToken("xyz_" + t.slice(4))).toBe(false);
    expect(isWellFormedToken(t + "a")).toBe(false);
    expect(isWellFormedToken(t.slice(0, -1))).toBe(false);
    expect(isWellFormedToken(undefined)).toBe(false);
    expect(isWellFormedToken("alw_" + "!".repeat(36))).toBe(false);
  });

  it("encodes the CRC32 checksum in exactly six base62 characters", () => {
    expect(checksumBase62("")).toBe("000000");
    expect(checksumBase62("alw_x")).toHaveLength(6);
  });

  it("hashes with SHA-256 hex; digests compare case-insensitively and a non-digest never matches", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const d = sha256Hex("secret");
    expect(digestEquals(d, d.toUpperCase())).toBe(true);
    expect(digestEquals(d, sha256Hex("secreT"))).toBe(false);
    expect(digestEquals(d, "short")).toBe(false);
    expect(digestEquals("zz", "zz")).toBe(false);
  });

  it("mints distinct strong passwords", () => {
    const a = mintPassword();
    expect(a).toHaveLength(40);
    expect(a).toMatch(/^[0-9A-Za-z._~-]+$/);
    expect(mintPassword()).not.toBe(a);
    expect(() => mintPassword(8)).toThrow(/length/);
  });
});
