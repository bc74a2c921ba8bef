import { USER_TOKEN_ENV } from "../../components/credentials/ado-pat-provider";
import {
  ADO_USER_TOKEN_ENV,
  missingUserTokenProblem,
  patRotationProblems,
} from "../../scripts/lib/patRotation";

const nonce = "emergency-2026-11-22T17:30:12Z-alice";
const applied = { rotationNonce: nonce, pendingRevocations: [] };

describe("PAT rotation checks of npm run rotate", () => {
  it("asks for the variable the AdoPat provider reads", () => {
    expect(ADO_USER_TOKEN_ENV).toBe(USER_TOKEN_ENV);
    expect(missingUserTokenProblem({ [USER_TOKEN_ENV]: "t" }, "rotating")).toBeUndefined();
    expect(missingUserTokenProblem({ [USER_TOKEN_ENV]: "" }, "rotating")).toContain(USER_TOKEN_ENV);
  });

  it("judges only the PATs the rotation covers: every organization's, or one destination's", () => {
    const outputs = {
      patRotations: {
        "pat-contoso": applied,
        "destinationPat-producta": { rotationNonce: "older", pendingRevocations: [] },
        "destinationPat-productb": applied,
      },
    };
    expect(patRotationProblems({ outputs, nonce, stack: "prod" })).toEqual([]);
    expect(patRotationProblems({ outputs, nonce, stack: "prod", destination: "productb" })).toEqual([]);
    expect(patRotationProblems({ outputs, nonce, stack: "prod", destination: "producta" })).toEqual([
      expect.stringMatching(/^destinationPat-producta: the rotation was not made/),
    ]);
  });

  it("does not call a rotation done when the outputs cannot tell", () => {
    for (const outputs of [{}, { patRotations: "[secret]" }, { patRotations: {} }])
      expect(patRotationProblems({ outputs, nonce, stack: "prod" })).toEqual([
        expect.stringMatching(/^cannot confirm the rotation of the stack's PATs/),
      ]);
  });
});
