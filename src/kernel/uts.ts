// The kernel identity the sandbox reports (uname, /proc/version,
// /proc/sys/kernel/*): the Sentry's own, never the host's. Like gVisor, it
// claims a Linux release old enough that programs do not expect newer ABI.

export const UTS_SYSNAME = 'Linux';
export const UTS_RELEASE = '4.4.0';
export const UTS_VERSION = '#1 SMP Sun Jan 10 15:06:54 PST 2016';
export const UTS_MACHINE = 'x86_64';

/** The line /proc/version shows, with its trailing newline. */
export function procVersionString(): string {
  return `${UTS_SYSNAME} version ${UTS_RELEASE} ${UTS_VERSION}\n`;
}
