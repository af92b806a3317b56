// Keys and keyrings (man 7 keyrings): the objects add_key, request_key and
// keyctl work on. A key has a type, a description, an owner, a permission
// mask and a payload; a keyring is a key whose payload is a set of links to
// other keys, at most one per (type, description). The registry, the quotas
// and the searches are kernel/keys/keys.ts; the caller's own keyrings are
// kernel/keys/process_keys.ts.

import { E, Errno } from '../../abi/errno';
import type { KeyringRef } from '../../auth/creds';

/** Permission bits of each of the four classes (possessor << 24, user << 16, group << 8, other). */
export const KEY_VIEW = 0x01, KEY_READ = 0x02, KEY_WRITE = 0x04, KEY_SEARCH = 0x08, KEY_LINK = 0x10, KEY_SETATTR = 0x20;
export const KEY_ALL = 0x3f;
export const KEY_POS_ALL = KEY_ALL << 24;
export const KEY_USR_VIEW = KEY_VIEW << 16;
export const KEY_USR_READ = KEY_READ << 16;
export const KEY_USR_LINK = KEY_LINK << 16;
export const KEY_USR_ALL = KEY_ALL << 16;
export const KEY_POS_SETATTR = KEY_SETATTR << 24;
/** Every bit a permission mask may have (KEYCTL_SETPERM refuses others with EINVAL). */
export const KEY_PERM_MASK = 0x3f3f3f3f;

/** The longest description (Linux's KEY_MAX_DESC_SIZE, its NUL included). */
export const KEY_MAX_DESC_SIZE = 4096;
/** The largest payload add_key accepts for any type. */
export const KEY_MAX_PAYLOAD = 1024 * 1024 - 1;
/** The largest payload of a user or logon key. */
export const USER_KEY_MAX = 32767;
/** Bytes of quota a keyring's owner pays for each link it holds (Linux's KEYQUOTA_LINK_BYTES). */
export const KEYQUOTA_LINK_BYTES = 4;
/** How deep a search or a cycle check descends below its first keyring. */
export const KEYRING_SEARCH_MAX_DEPTH = 6;
/** A negative key (a failed request_key) lasts this long, in seconds (Linux's key_negative_timeout). */
export const KEY_NEGATIVE_TIMEOUT = 60;
/** An ID left unset by KEYCTL_CHOWN, and the unset group of user keyrings. */
export const NO_ID = -1;

export interface KeyType {
  readonly name: string;
  /** The type can read its payload out (KEYCTL_READ). */
  readonly readable: boolean;
  /** The type can take a new payload (KEYCTL_UPDATE, add_key on an existing key). */
  readonly updatable: boolean;
  /** Checks a payload for instantiation or update: throws EINVAL for a bad one. */
  checkPayload(data: Buffer | null): void;
  /** Checks a description at creation. */
  checkDescription(desc: string): void;
}

/** "user": an opaque blob of 1 to 32767 bytes, readable and updatable. */
const USER: KeyType = {
  name: 'user', readable: true, updatable: true,
  checkPayload(data) {
    if (!data || data.length === 0 || data.length > USER_KEY_MAX) throw new Errno(E.EINVAL);
  },
  checkDescription() {},
};

/** "logon": as user, but never readable from user space, and the description is "service:name". */
const LOGON: KeyType = {
  name: 'logon', readable: false, updatable: true,
  checkPayload: USER.checkPayload,
  checkDescription(desc) {
    const colon = desc.indexOf(':');
    if (colon <= 0) throw new Errno(E.EINVAL);
  },
};

/** "keyring": no payload at creation; its content is the links. */
export const KEYRING: KeyType = {
  name: 'keyring', readable: true, updatable: false,
  checkPayload(data) {
    if (data && data.length !== 0) throw new Errno(E.EINVAL);
  },
  checkDescription() {},
};

/** The type of that name, of those this kernel has (others: ENODEV from add_key, ENOKEY from request_key and KEYCTL_SEARCH). */
export function keyType(name: string): KeyType | undefined {
  return [USER, LOGON, KEYRING].find((ty) => ty.name === name);
}

/** What a process's key quota is charged with: keys and bytes per owning uid (Linux's struct key_user). */
export class KeyUser {
  /** Keys owned, and of them the instantiated ones. */
  nkeys = 0;
  nikeys = 0;
  /** Keys and bytes counted against the quota. */
  qnkeys = 0;
  qnbytes = 0;
  constructor(readonly uid: number) {}
}

export class Key implements KeyringRef {
  /** Set once instantiated: positive (a payload) or negative (rejectError). */
  state: 'uninstantiated' | 'positive' | 'negative' = 'uninstantiated';
  rejectError = 0;
  revoked = false;
  invalidated = false;
  /** Destroyed: no longer in the registry. */
  dead = false;
  /** Seconds of CLOCK_REALTIME after which the key has expired; 0: never. */
  expiry = 0;
  payload: Buffer | null = null;
  /** A keyring's links, by type and description (insertion order). */
  readonly links: Map<string, Key> | null;
  /** The keyrings among the links (searches descend through these only). */
  readonly subrings: Set<Key> | null;
  /** KEYCTL_RESTRICT_KEYRING with no type: no more links may be made. */
  restricted = false;
  /** Bytes charged to the owner's quota: description + NUL, payload, links. */
  quotaLen: number;
  /** Bytes charged to the sandbox's heap budget. */
  heapLen = 0;
  /** A user or user-session keyring (found through the register, never by name). */
  uidKeyring = false;
  /** Whether the key counts in its owner's quota (all keys user space makes). */
  readonly inQuota = true;

  constructor(
    readonly serial: number,
    readonly type: KeyType,
    readonly description: string,
    public uid: number,
    public gid: number,
    public perm: number,
    public user: KeyUser,
  ) {
    this.links = type === KEYRING ? new Map() : null;
    this.subrings = type === KEYRING ? new Set() : null;
    this.quotaLen = description.length + 1;
  }

  get isKeyring(): boolean {
    return this.links !== null;
  }

  /** The length of the data KEYCTL_READ gives (a keyring: four bytes per link). */
  get dataLen(): number {
    return this.links ? this.links.size * 4 : (this.payload?.length ?? 0);
  }

  expired(nowSec: number): boolean {
    return this.expiry !== 0 && nowSec >= this.expiry;
  }

  /** Linux's key_validate: EKEYREVOKED, ENOKEY (invalidated or dead), EKEYEXPIRED, else nothing. */
  validate(nowSec: number): void {
    if (this.revoked) throw new Errno(E.EKEYREVOKED);
    if (this.invalidated || this.dead) throw new Errno(E.ENOKEY);
    if (this.expired(nowSec)) throw new Errno(E.EKEYEXPIRED);
  }
}

/** The index under which a keyring holds a link. */
export function linkIndex(type: KeyType, description: string): string {
  return `${type.name}\0${description}`;
}
