/**
 * The emulator's ADO clock: the time ADO's delivery schedule runs on (transient retries at 1 … 60 s,
 * probation retries at 20 min … 15 h; azure-devops-facts.md). It runs `scale` times as fast as real
 * time would take (0.001: a 20-minute probation wait lasts 1.2 real seconds), and it can jump ahead:
 * `advance(36 * 3600)` runs every retry due in the next 36 hours, in order, at once.
 *
 * Only the schedule runs on this clock; timestamps the emulator writes (createdDate, modifiedDate…)
 * are real time, so a history read after a jump stays in order.
 */

const MAX_TIMER_MS = 2 ** 31 - 1;

interface Wait {
  /** ADO time (s) at which the wait ends. */
  dueS: number;
  timer?: NodeJS.Timeout;
  resolve: () => void;
}

export class AdoClock {
  private baseS = 0;
  private baseRealMs = Date.now();
  private readonly waits = new Set<Wait>();
  private closed = false;

  constructor(private scaleValue = 1) {
    AdoClock.checkScale(scaleValue);
  }

  private static checkScale(scale: number): void {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new Error("timeScale must be a number > 0");
  }

  /** Real seconds per ADO second. */
  get scale(): number {
    return this.scaleValue;
  }

  /** Seconds of ADO time since the emulator started (jumps included). */
  now(): number {
    return this.baseS + (Date.now() - this.baseRealMs) / 1000 / this.scaleValue;
  }

  /** Waits under way (each is one delivery or probation task parked until its next retry). */
  get pending(): number {
    return this.waits.size;
  }

  /** Changes the scale; waits under way keep their ADO due time and are re-armed at the new pace. */
  setScale(scale: number): void {
    AdoClock.checkScale(scale);
    this.rebase(this.now());
    this.scaleValue = scale;
    for (const w of this.waits) this.arm(w);
  }

  /** Resolves after `seconds` of ADO time (at once when the clock is closed). */
  wait(seconds: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const w: Wait = { dueS: this.now() + Math.max(0, seconds), resolve };
      this.waits.add(w);
      this.arm(w);
    });
  }

  /**
   * Moves ADO time forward by `seconds`, running what falls due in order: the clock jumps to the
   * earliest due wait, ends every wait due by then, and lets `settle` finish the work that follows
   * (a delivery attempt, which may park in a new wait) before the next jump. So a hook on probation
   * goes through every retry of the window, not only the first. Resolves with the number of waits
   * ended this way.
   */
  async advance(seconds: number, settle: () => Promise<void>): Promise<number> {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new Error("advance needs seconds >= 0");
    // Work under way (a delivery being sent) first parks on the clock, or it would miss the jump.
    await settle();
    const target = this.now() + seconds;
    let ended = 0;
    while (!this.closed) {
      const due = [...this.waits].filter((w) => w.dueS <= target);
      if (due.length === 0) break;
      const next = Math.min(...due.map((w) => w.dueS));
      if (next > this.now()) this.rebase(next);
      const now = this.now();
      for (const w of [...this.waits]) {
        if (w.dueS <= now) {
          this.end(w);
          ended++;
        } else this.arm(w);
      }
      await settle();
    }
    if (target > this.now()) {
      this.rebase(target);
      for (const w of this.waits) this.arm(w);
    }
    return ended;
  }

  /** Ends every wait at once (the emulator is closing). */
  close(): void {
    this.closed = true;
    for (const w of [...this.waits]) this.end(w);
  }

  private rebase(nowS: number): void {
    this.baseS = nowS;
    this.baseRealMs = Date.now();
  }

  private arm(w: Wait): void {
    clearTimeout(w.timer);
    const ms = Math.max(0, (w.dueS - this.now()) * 1000 * this.scaleValue);
    // setTimeout fires at once beyond 2^31-1 ms (≈ 24.8 days): wake up then and arm again.
    w.timer =
      ms > MAX_TIMER_MS ? setTimeout(() => this.arm(w), MAX_TIMER_MS) : setTimeout(() => this.end(w), ms);
  }

  private end(w: Wait): void {
    clearTimeout(w.timer);
    if (this.waits.delete(w)) w.resolve();
  }
}
