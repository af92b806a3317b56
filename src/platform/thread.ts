// The one JavaScript thread of the process, which every sandbox's kernel loop
// runs on. A loop alone on it may block in waitpid() until its own stubs stop;
// with several, a blocked loop would hold up the others, so each polls
// instead and yields between stops (see Platform.wait). This is host state of
// the process (there is one thread whatever the number of sandboxes), not
// kernel state: it lives here, once per process.

export class SentryThread {
  private loops = 0;

  /** A platform starts (or stops) running on this thread. */
  join(): void {
    this.loops++;
  }
  leave(): void {
    this.loops--;
  }

  /** More than one sandbox runs on the thread: nobody may block it. */
  get shared(): boolean {
    return this.loops > 1;
  }
}

export const sentryThread = new SentryThread();
