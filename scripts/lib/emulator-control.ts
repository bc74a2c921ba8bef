/**
 * A client of the ADO emulator's control routes (/_emulator/…, devkit/ado-emulator/control.ts),
 * over HTTP as any outside script would use them: `npm run emulator -- --emulator URL …` and the
 * sandbox drive the emulator through it.
 */
import type { RaisedEvent } from "../../devkit/ado-emulator/control";
import type { ClockAdvance, DeliveryFailure, DeliveryFailureRule } from "../../devkit/ado-emulator";

export type { RaisedEvent };

/** The emulator refused an action or could not be reached. */
export class EmulatorControlError extends Error {}

export class EmulatorControl {
  readonly baseUrl: string;

  /** `baseUrl`: the emulator's base URL (what it printed before the org name); `pat`: its PAT. */
  constructor(
    baseUrl: string,
    private readonly pat: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/_emulator${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`:${this.pat}`).toString("base64")}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new EmulatorControlError(
        `cannot reach the ADO emulator at ${this.baseUrl}: ${(err as Error).message}`,
      );
    }
    const answer = (await res.json().catch(() => ({}))) as { message?: string };
    if (!res.ok)
      throw new EmulatorControlError(
        `${method} /_emulator${path} answered ${res.status}${answer.message ? `: ${answer.message}` : ""}`,
      );
    return answer as T;
  }

  /** Raises events (`eventType` a catalogue type or "all") and waits for their first delivery round. */
  async raise(options: {
    eventType: string;
    org?: string;
    project?: string;
    count?: number;
  }): Promise<RaisedEvent[]> {
    return (await this.call<{ events: RaisedEvent[] }>("POST", "/events", options)).events;
  }

  failDeliveries(rule: DeliveryFailureRule): Promise<DeliveryFailure> {
    return this.call("POST", "/delivery-failures", rule);
  }

  /** Removes every failure rule; resolves with how many there were. */
  async clearFailures(): Promise<number> {
    return (await this.call<{ removed: number }>("DELETE", "/delivery-failures")).removed;
  }

  advance(seconds: number): Promise<ClockAdvance> {
    return this.call("POST", "/clock/advance", { seconds });
  }

  async setTimeScale(timeScale: number): Promise<number> {
    return (await this.call<{ timeScale: number }>("PUT", "/clock", { timeScale })).timeScale;
  }

  status(): Promise<Record<string, unknown>> {
    return this.call("GET", "");
  }
}
