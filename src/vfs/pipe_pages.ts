// Per-user accounting of pipe buffer pages (Linux's user_struct.pipe_bufs
// with fs.pipe-user-pages-soft and -hard). Every live pipe charges its
// buffer's pages to the real user that created it (the first opener of a
// FIFO) until it dies; a user without CAP_SYS_RESOURCE or CAP_SYS_ADMIN past
// the soft limit gets two-page pipes, past the hard limit none (ENFILE), and
// cannot grow a pipe with F_SETPIPE_SZ past either (EPERM). One table per
// sandbox (the VFS's); a user's entry goes when it holds no pages.

/** The pages of a default pipe (PIPE_DEF_BUFFERS) and of one over the soft limit (PIPE_MIN_DEF_BUFFERS). */
export const PIPE_DEF_PAGES = 16;
export const PIPE_MIN_PAGES = 2;

/** Whose pages a pipe holds, and whether the limits apply to it (the holder's privilege when it was made). */
export interface PipeCharge {
  readonly book: PipeUserPages;
  readonly uid: number;
  readonly limited: boolean;
}

export class PipeUserPages {
  /** fs.pipe-user-pages-soft (Linux's default: 16 pages times 1024 files). 0: no limit. */
  soft = PIPE_DEF_PAGES * 1024;
  /** fs.pipe-user-pages-hard. 0: no limit. */
  hard = 0;
  private readonly pages = new Map<number, number>();

  /** Move uid's charge from `from` pages to `to`; the user's new total. */
  account(uid: number, from: number, to: number): number {
    const n = (this.pages.get(uid) ?? 0) + to - from;
    if (n > 0) this.pages.set(uid, n);
    else this.pages.delete(uid);
    return n;
  }

  overSoft(total: number): boolean {
    return this.soft > 0 && total > this.soft;
  }
  overHard(total: number): boolean {
    return this.hard > 0 && total > this.hard;
  }

}
