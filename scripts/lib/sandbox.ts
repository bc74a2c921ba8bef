/** Placeholder: filled in once the receiver and emulator entry points land. */
export async function runSandbox(_options: unknown): Promise<void> {
  throw new Error("sandbox loop not implemented yet");
}
