// SKELETON, being written by the kernel work.
import type { VirtualFilesystem } from '../vfs/vfs';
import type { MemoryFile } from '../mm/memfile';
export class Kernel {
  declare vfs: VirtualFilesystem;
  declare memfile: MemoryFile;
}
