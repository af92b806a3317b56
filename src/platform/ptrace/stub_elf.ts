// The stub: the host process that becomes an application's address space.
// A minimal static ELF generated here (no compiler at install or run time).
// It makes itself traced by its parent (the Sentry's main thread), ignores
// SIGCHLD (stubs forked from it are reaped by the host, not left as zombies),
// stops, and from then on only runs what the Sentry injects at INJECT_ADDR:
// one `syscall` followed by `int3`, which hands control back.

export const STUB_BASE = 0x7ff000000000;
export const STUB_DATA = STUB_BASE + 0x1000; // one RW page: scratch for injected calls
/** A page of the memory file, one per stub, holding a batch of calls (see BATCH_*). */
export const STUB_CTRL = STUB_BASE + 0x2000;
export const STUB_END = STUB_BASE + 0x3000;
/** Batch layout in the control page: a count, then entries of nr + 6 args; results replace nr. */
export const BATCH_ENTRY = 56;
export const BATCH_MAX = Math.floor((0x1000 - 8) / BATCH_ENTRY);
/** Reading /proc/PID/comm of a stub gives this name (isolation tests look for it). */
export const STUB_NAME = 'tsvisor-stub';

const HDR = 64;
const PHDR = 56;
const CODE_OFF = HDR + 2 * PHDR;

function code(): { bytes: Buffer; inject: number; batch: number } {
  const b: number[] = [];
  const mov = (op: number, imm: number) => b.push(op, imm & 0xff, (imm >> 8) & 0xff, (imm >> 16) & 0xff, (imm >> 24) & 0xff);
  const syscall = () => b.push(0x0f, 0x05);
  // ptrace(PTRACE_TRACEME, 0, 0, 0)
  mov(0xb8, 101); b.push(0x31, 0xff, 0x31, 0xf6, 0x31, 0xd2, 0x45, 0x31, 0xd2); syscall();
  // rt_sigaction(SIGCHLD, &act, NULL, 8)
  mov(0xb8, 13); mov(0xbf, 17);
  const leaAt = b.length;
  b.push(0x48, 0x8d, 0x35, 0, 0, 0, 0); // lea rsi, [rip + act]
  b.push(0x31, 0xd2); b.push(0x41, 0xba, 8, 0, 0, 0); syscall(); // xor edx,edx; mov r10d,8
  // prctl(PR_SET_NAME, "tsvisor-stub")
  mov(0xb8, 157); mov(0xbf, 15);
  const leaName = b.length;
  b.push(0x48, 0x8d, 0x35, 0, 0, 0, 0); syscall();
  // kill(getpid(), SIGSTOP)
  mov(0xb8, 39); syscall(); b.push(0x89, 0xc7); mov(0xbe, 19); mov(0xb8, 62); syscall();
  const inject = b.length;
  syscall(); b.push(0xcc); b.push(0xeb, 0x100 - 5); // syscall; int3; jmp inject
  // batch: run the calls listed in the control page, then trap once; trap
  // early at the first call that fails (rax an errno): r12 says how many
  // were left. Nothing is written back, so the control page is read-only in
  // the stub and application code running there cannot change a batch.
  const batch = b.length;
  b.push(0x48, 0xbb); // movabs rbx, STUB_CTRL
  const ctrl = BigInt(STUB_CTRL);
  for (let i = 0n; i < 8n; i++) b.push(Number((ctrl >> (8n * i)) & 0xffn));
  b.push(0x4c, 0x8b, 0x23); // mov r12, [rbx]
  b.push(0x4c, 0x8d, 0x6b, 0x08); // lea r13, [rbx+8]
  const loop = b.length;
  b.push(0x4d, 0x85, 0xe4); // test r12, r12
  b.push(0x74, 0); // jz done (patched)
  const jz = b.length - 1;
  b.push(0x49, 0x8b, 0x45, 0x00); // mov rax, [r13]
  b.push(0x49, 0x8b, 0x7d, 0x08); // mov rdi, [r13+8]
  b.push(0x49, 0x8b, 0x75, 0x10); // mov rsi, [r13+16]
  b.push(0x49, 0x8b, 0x55, 0x18); // mov rdx, [r13+24]
  b.push(0x4d, 0x8b, 0x55, 0x20); // mov r10, [r13+32]
  b.push(0x4d, 0x8b, 0x45, 0x28); // mov r8, [r13+40]
  b.push(0x4d, 0x8b, 0x4d, 0x30); // mov r9, [r13+48]
  syscall();
  b.push(0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff); // cmp rax, -4095
  b.push(0x73, 0); // jae done (patched): an errno
  const jae = b.length - 1;
  b.push(0x49, 0x83, 0xc5, 0x38); // add r13, 56
  b.push(0x49, 0xff, 0xcc); // dec r12
  b.push(0xeb, (loop - (b.length + 2)) & 0xff); // jmp loop
  b[jz] = b.length - (jz + 1);
  b[jae] = b.length - (jae + 1);
  b.push(0xcc); // done: int3
  while (b.length % 8) b.push(0xcc);
  const act = b.length;
  const disp = act - (leaAt + 7);
  b[leaAt + 3] = disp & 0xff; b[leaAt + 4] = (disp >> 8) & 0xff;
  b.push(1, 0, 0, 0, 0, 0, 0, 0); // sa_handler = SIG_IGN
  for (let i = 0; i < 24; i++) b.push(0); // flags, restorer, mask
  const name = b.length;
  const nd = name - (leaName + 7);
  b[leaName + 3] = nd & 0xff; b[leaName + 4] = (nd >> 8) & 0xff;
  for (const c of Buffer.from(STUB_NAME + '\0', 'latin1')) b.push(c);
  return { bytes: Buffer.from(b), inject, batch };
}

const built = code();
export const INJECT_ADDR = STUB_BASE + CODE_OFF + built.inject;
export const BATCH_ADDR = STUB_BASE + CODE_OFF + built.batch;
/** Where code appended to the stub (the systrap platform's handlers, see stubElf) starts: 16-byte aligned. */
export const STUB_EXTRA_ADDR = STUB_BASE + ((CODE_OFF + built.bytes.length + 15) & ~15);

/** The stub image; extra is code placed at STUB_EXTRA_ADDR, in the same execute-only page (it must end below STUB_DATA). */
export function stubElf(extra?: Buffer): Buffer {
  const extraOff = STUB_EXTRA_ADDR - STUB_BASE;
  if (extra && extraOff + extra.length > STUB_DATA - STUB_BASE) throw new Error('stub code does not fit in its page');
  const img = Buffer.alloc(extra ? extraOff + extra.length : CODE_OFF + built.bytes.length, 0xcc);
  img.fill(0, 0, CODE_OFF);
  img.write('\x7fELF', 0, 'latin1');
  img[4] = 2; img[5] = 1; img[6] = 1; // 64-bit, little endian, version 1
  img.writeUInt16LE(2, 16); // ET_EXEC
  img.writeUInt16LE(62, 18); // EM_X86_64
  img.writeUInt32LE(1, 20);
  img.writeBigUInt64LE(BigInt(STUB_BASE + CODE_OFF), 24);
  img.writeBigUInt64LE(BigInt(HDR), 32);
  img.writeUInt16LE(HDR, 52); img.writeUInt16LE(PHDR, 54); img.writeUInt16LE(2, 56);
  const seg = (i: number, flags: number, off: number, vaddr: number, filesz: number, memsz: number) => {
    const p = HDR + i * PHDR;
    img.writeUInt32LE(1, p); img.writeUInt32LE(flags, p + 4);
    img.writeBigUInt64LE(BigInt(off), p + 8);
    img.writeBigUInt64LE(BigInt(vaddr), p + 16); img.writeBigUInt64LE(BigInt(vaddr), p + 24);
    img.writeBigUInt64LE(BigInt(filesz), p + 32); img.writeBigUInt64LE(BigInt(memsz), p + 40);
    img.writeBigUInt64LE(0x1000n, p + 48);
  };
  seg(0, 5, 0, STUB_BASE, img.length, img.length); // R-X: headers and code
  seg(1, 6, 0, STUB_DATA, 0, 0x1000); // RW- scratch page (bss)
  built.bytes.copy(img, CODE_OFF);
  extra?.copy(img, extraOff);
  return img;
}
