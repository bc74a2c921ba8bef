/**
 * `npm run heal`: the heal job run from a workstation or CI. It is the very entry point of the
 * scheduled job in the cloud (app/heal/main.ts), so both share code and settings.
 * `npm run heal -- --help` for the options.
 */
import "../app/heal/main";
