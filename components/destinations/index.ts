/** Destinations besides the receiver this stack deploys: hosted receivers (SaaS products). */
export * from "./webhook-destination";
