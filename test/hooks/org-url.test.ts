/** One spelling per ADO organization URL (components/hooks/org-url.ts). */
import { normaliseOrgUrl, orgIdentity } from "../../components/hooks/org-url";

describe("normaliseOrgUrl", () => {
  it.each([
    ["https://dev.azure.com/contoso", "https://dev.azure.com/contoso"],
    ["https://dev.azure.com/Contoso/", "https://dev.azure.com/contoso"],
    ["  https://DEV.azure.com/CONTOSO//  ", "https://dev.azure.com/contoso"],
    ["https://contoso.visualstudio.com", "https://dev.azure.com/contoso"],
    ["https://Contoso.VisualStudio.com/", "https://dev.azure.com/contoso"],
    ["https://contoso.visualstudio.com/DefaultCollection", "https://dev.azure.com/contoso"],
    // Other hosts (Azure DevOps Server, the emulator): path as written, host lower-cased.
    ["http://127.0.0.1:7072/sandbox/", "http://127.0.0.1:7072/sandbox"],
    ["https://TFS.example.com/tfs/Collection", "https://tfs.example.com/tfs/Collection"],
  ])("%s → %s", (input, expected) => {
    expect(normaliseOrgUrl(input)).toBe(expected);
  });

  it.each([
    "contoso",
    "ftp://dev.azure.com/contoso",
    "https://dev.azure.com",
    "https://dev.azure.com/contoso/project",
    "https://dev.azure.com/contoso?x=1",
    "https://contoso.visualstudio.com/SomeProject",
    "https://example.com",
  ])("rejects %s", (input) => {
    expect(normaliseOrgUrl(input)).toBeUndefined();
  });

  it("leaves what it cannot read as it is, for comparisons", () => {
    expect(orgIdentity("not a url")).toBe("not a url");
    expect(orgIdentity("https://contoso.visualstudio.com/")).toBe(
      orgIdentity("https://dev.azure.com/CONTOSO"),
    );
  });
});
