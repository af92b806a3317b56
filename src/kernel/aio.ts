// Linux native AIO contexts (io_setup): the kernel side of a completion ring
// that lives in the process's memory. Contexts belong to the process; the
// sandbox-wide count of reserved events (Kernel.aioNr, /proc/sys/fs/aio-nr)
// is bounded by AIO_MAX_NR as Linux bounds it by fs.aio-max-nr.

import { WaitQueue } from '../abi/waitqueue';

/** fs.aio-max-nr's default. */
export const AIO_MAX_NR = 65536;
export const AIO_RING_MAGIC = 0xa10a10a1;
/** sizeof(struct aio_ring) and sizeof(struct io_event). */
export const AIO_RING_HEADER = 32;
export const IO_EVENT_SIZE = 32;

export class AioContext {
  /** The kernel's own copy of the ring's tail (the ring in user memory may be scribbled on). */
  tail = 0;
  /** Requests submitted and not yet completed into the ring. */
  inflight = 0;
  /** Set by io_destroy, exec or exit: late completions are dropped. */
  dead = false;
  /** Completions wake io_getevents here. */
  readonly queue = new WaitQueue();
  /** IOCB_CMD_POLL requests still waiting, by iocb address: io_cancel, io_destroy, exec and exit end them. */
  readonly polls = new Map<number, { cancel(): void }>();

  constructor(
    /** The ring's user address: the context id io_setup returns. */
    readonly id: number,
    /** Its slot among the process's contexts (the ring's id field). */
    readonly index: number,
    /** Events the ring holds (io_event slots). */
    readonly nr: number,
    /** What io_setup asked for, charged to aio-nr. */
    readonly maxReqs: number,
    /** Bytes of the ring mapping. */
    readonly ringLen: number,
  ) {}
}
