/**
 * A PUT of a subscription that checks what ADO made of it. Two behaviours the heal job and the
 * ServiceHook provider rely on are not stated by Microsoft (azure-devops-facts.md, *unconfirmed*):
 * a PUT with `basicAuthPassword: "********"` keeps the stored password, and a PUT with
 * `status: "enabled"` re-enables a hook ADO disabled. If ADO behaves otherwise, this says so
 * instead of recording a repair that did not happen: it reads the subscription back after a
 * re-enable, and when the password is gone it sends the real one again if the caller has it.
 * I/O only through the AdoApi it is given.
 */
import { MASKED_SECRET, type AdoApi, type Subscription, type SubscriptionInput } from "./types";
import { subscriptionStatus } from "./wire";

export interface ReplaceCheckOptions {
  /**
   * The real password, when the caller knows it (the provider does, the heal job does not): sent
   * again if a PUT with the mask left the subscription without a password.
   */
  password?: string;
  /** GET the subscription after the PUT and check it (used for re-enables). Default false. */
  readBack?: boolean;
}

export interface CheckedReplace {
  /** The subscription as ADO holds it after the PUT(s): the read-back when there was one. */
  subscription: Subscription;
  /** What ADO did not do as asked and could not be repaired here, in words for a report. */
  problems: string[];
  /** What was repaired here (e.g. the password sent again). */
  repairs: string[];
}

/** Whether ADO shows a stored password (it shows the mask, never the value). */
function hasPassword(sub: Subscription): boolean {
  return Boolean(sub.consumerInputs?.basicAuthPassword);
}

/**
 * PUTs `input` and checks the result: the status asked for, and a password kept when it was sent
 * as the mask. Throws what the PUT throws (404 included); a read-back that finds the subscription
 * gone is a problem, not an error, since the PUT itself succeeded.
 */
export async function replaceAndVerify(
  api: AdoApi,
  id: string,
  input: SubscriptionInput,
  options: ReplaceCheckOptions = {},
): Promise<CheckedReplace> {
  const problems: string[] = [];
  const repairs: string[] = [];
  let sub = await api.replaceSubscription(id, input);
  if (options.readBack) {
    const again = await api.getSubscription(id);
    if (!again) {
      problems.push("the subscription was gone when read back after the PUT");
      return { subscription: sub, problems, repairs };
    }
    sub = again;
  }

  const sentMask = input.consumerInputs?.basicAuthPassword === MASKED_SECRET;
  if (sentMask && !hasPassword(sub)) {
    if (options.password) {
      // ADO dropped the password although it was sent as the mask: send the real one.
      sub = await api.replaceSubscription(id, {
        ...input,
        consumerInputs: { ...input.consumerInputs, basicAuthPassword: options.password },
      });
      if (options.readBack) sub = (await api.getSubscription(id)) ?? sub;
      if (hasPassword(sub))
        repairs.push("ADO dropped the Basic password on a PUT with ********: sent it again");
      else problems.push("ADO dropped the Basic password on a PUT and did not keep it when sent again");
    } else {
      problems.push(
        "ADO dropped the Basic password on a PUT with ******** (it should have kept it): " +
          "run `pulumi up` to set it again, deliveries fail with 401 until then",
      );
    }
  }

  const wanted = input.status;
  const found = subscriptionStatus(sub);
  if (wanted && found !== wanted) {
    problems.push(`ADO answered the PUT with status: ${wanted} but the subscription reads back as ${found}`);
  }
  return { subscription: sub, problems, repairs };
}
