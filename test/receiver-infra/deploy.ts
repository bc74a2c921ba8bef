/**
 * Runs ReceiverInfra under recording mocks with realistic Azure answers and returns what it
 * registered. Import this before anything that creates resources (it installs the mocks).
 */
import { ReceiverInfra, type ReceiverInfraArgs } from "../../components/receiver";
import {
  azureNativeCall,
  azureNativeId,
  azureNativeOutputs,
  mockAzure,
  setupPulumiMocks,
  type RecordedResource,
} from "../support/pulumi-mocks";

export const project = "hookfleet";
export const stack = "prod";
/** The deployer's subscription getClientConfig reports; change it to deploy "in another subscription". */
export const deployer = { subscriptionId: mockAzure.subscriptionId as string };
export const mocks = setupPulumiMocks({
  project,
  stack,
  outputs: azureNativeOutputs,
  id: azureNativeId,
  call: (args, provider) => {
    const answer = azureNativeCall(args, provider);
    return args.token === "azure-native:authorization:getClientConfig"
      ? { ...answer, subscriptionId: deployer.subscriptionId }
      : answer;
  },
});

export interface Deployment {
  infra: ReceiverInfra;
  component: RecordedResource;
  /** Resources whose parent is the component. */
  children: RecordedResource[];
  /** Children of an azure-native type, e.g. `cosmosdb:DatabaseAccount`. */
  all(type: string): RecordedResource[];
  /** The only child of an azure-native type (throws otherwise). */
  one(type: string): RecordedResource;
}

/** Constructs the component, waits for every registration, and indexes its children. */
export async function deploy(name: string, args: ReceiverInfraArgs): Promise<Deployment> {
  const infra = new ReceiverInfra(name, args);
  await mocks.settled();
  const component = mocks.one("hookfleet:receiver:ReceiverInfra", name);
  const children = mocks.childrenOf(component.urn);
  const all = (type: string) => children.filter((r) => r.type === `azure-native:${type}`);
  return {
    infra,
    component,
    children,
    all,
    one(type) {
      const found = all(type);
      if (found.length !== 1) throw new Error(`expected one ${type} under ${name}, found ${found.length}`);
      return found[0];
    },
  };
}
