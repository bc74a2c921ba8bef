/**
 * Test fixture: an in-memory Cosmos DB API server (@vercel/cosmosdb-server) on a random loopback
 * port, with a real @azure/cosmos client already pointed at it and the receiver's database and
 * container created. Close it in afterAll; closing it mid-test simulates a store outage.
 */
import { CosmosClient, type Container } from "@azure/cosmos";
import { startEmbeddedCosmos } from "../../app/embedded-cosmos";
import { messageStoreLayout } from "../../app/settings";

export interface CosmosTestServer {
  endpoint: string;
  key: string;
  port: number;
  database: string;
  container: string;
  /** A real client against the server (SDK default keep-alive agent, no endpoint discovery). */
  client: CosmosClient;
  /** The messages container (partition key /systemId). */
  messages: Container;
  /** Every stored message of a system (or of all systems), oldest first by receivedAt. */
  storedMessages(systemId?: string): Promise<Record<string, unknown>[]>;
  /** Stops the server and the client. Idempotent. */
  close(): Promise<void>;
}

export async function startCosmosServer(
  opts: { database?: string; container?: string } = {},
): Promise<CosmosTestServer> {
  const server = await startEmbeddedCosmos();
  const client = new CosmosClient({
    endpoint: server.endpoint,
    key: server.key,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const database = opts.database ?? "hookfleet";
  const container = opts.container ?? "messages";
  const { database: db } = await client.databases.createIfNotExists({ id: database });
  const { container: messages } = await db.containers.createIfNotExists({
    id: container,
    partitionKey: { paths: [messageStoreLayout.partitionKeyPath] },
    defaultTtl: messageStoreLayout.defaultTtl,
  });
  let closed: Promise<void> | undefined;
  return {
    endpoint: server.endpoint,
    key: server.key,
    port: server.port,
    database,
    container,
    client,
    messages,
    async storedMessages(systemId) {
      const { resources } = await messages.items
        .query<Record<string, unknown>>(
          systemId === undefined
            ? "SELECT * FROM c"
            : {
                query: "SELECT * FROM c WHERE c.systemId = @s",
                parameters: [{ name: "@s", value: systemId }],
              },
        )
        .fetchAll();
      return resources.sort((a, b) => String(a.receivedAt).localeCompare(String(b.receivedAt)));
    },
    close() {
      closed ??= (async () => {
        client.dispose();
        await server.close();
      })();
      return closed;
    },
  };
}
