// PLACEHOLDER (owned by the VFS work): mount namespace, path walk.
export class VirtualFilesystem {}
