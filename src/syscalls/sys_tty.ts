// Terminals as a family: no system calls of its own (ttys are files, see
// fsimpl/devpts), only the exit hook that hangs up a controlling terminal
// when its session's leader (the controlling process) exits.
import type { FamilyHooks } from '../kernel/lifecycle';
import { DevPtsFs } from '../fsimpl/devpts/devpts';

export const hooks: FamilyHooks = {
  taskExit: (t) => {
    const tg = t.tg;
    if (tg.pid !== tg.sid) return;
    for (const m of t.kernel.vfs.mounts()) if (m.fs instanceof DevPtsFs) m.fs.sessionLeaderExit(tg);
  },
};
