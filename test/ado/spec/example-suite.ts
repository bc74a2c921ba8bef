/**
 * The jest lifecycle of a suite run against Microsoft's example organization: the example server
 * and a Cosmos DB server for the whole suite, the recorded requests cleared before each test, and
 * after each test every request the code sent checked against the spec (swagger.ts SpecSet).
 * Shared by the heal and spec suites so that the conformance check is one check.
 */
import { startCosmosServer, type CosmosTestServer } from "../../support/cosmos-server";
import { startExampleServer, type ExampleServer } from "./example-server";
import { SpecSet } from "./swagger";

export interface ExampleSuite {
  /** The example organization's server (started in beforeAll). */
  readonly server: ExampleServer;
  /** A Cosmos DB server for what the code stores (started in beforeAll). */
  readonly cosmos: CosmosTestServer;
}

/** Registers the hooks; call at the top of a test file. */
export function exampleOrgSuite(): ExampleSuite {
  let server: ExampleServer;
  let cosmos: CosmosTestServer;
  const specs = new SpecSet();

  beforeAll(async () => {
    server = await startExampleServer();
    cosmos = await startCosmosServer();
  });
  afterAll(async () => {
    await server?.close();
    await cosmos?.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });
  afterEach(() => {
    // Whatever the test did, every request it sent conforms to the spec.
    expect(server.requests.flatMap((r) => specs.checkRequest(r))).toEqual([]);
  });
  return {
    get server() {
      return server;
    },
    get cosmos() {
      return cosmos;
    },
  };
}
