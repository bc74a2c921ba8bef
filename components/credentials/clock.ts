/**
 * The credential providers' clock. Real time, unless `HOOKFLEET_NOW` pins it to an ISO instant: the
 * tests and the rotation soak move time forward through a rotation schedule this way, in the provider
 * process itself (which is where Pulumi runs diff/update), without waiting days.
 */
export const CLOCK_ENV = "HOOKFLEET_NOW";

export type Clock = () => Date;

/** Now, or the instant `HOOKFLEET_NOW` names; an unparsable value is an error, never silently ignored. */
export const systemClock: Clock = () => {
  const pinned = process.env[CLOCK_ENV];
  if (pinned === undefined || pinned === "") return new Date();
  const t = Date.parse(pinned);
  if (Number.isNaN(t))
    throw new Error(`${CLOCK_ENV} is set but is not an ISO date-time: ${JSON.stringify(pinned)}`);
  return new Date(t);
};
