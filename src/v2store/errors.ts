// etcd's v2 errors: a numeric code with a fixed message, an optional cause (usually the key)
// and the store index at the time, serialized exactly as etcd's v2 API answers them.

export const ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  Unauthorized: 110,
  PrevValueRequired: 201,
  TtlNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTtlRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  WatcherCleared: 400,
  EventIndexCleared: 401,
} as const;

const messages: Record<number, string> = {
  100: "Key not found",
  101: "Compare failed",
  102: "Not a file",
  104: "Not a directory",
  105: "Key already exists",
  107: "Root is read only",
  108: "Directory not empty",
  110: "The request requires user authentication",
  201: "PrevValue is Required in POST form",
  202: "The given TTL in POST form is not a number",
  203: "The given index in POST form is not a number",
  209: "Invalid field",
  210: "Invalid POST form",
  211: "Value provided on refresh",
  212: "A TTL must be provided on refresh",
  300: "Raft Internal Error",
  301: "During Leader Election",
  400: "watcher is cleared due to etcd recovery",
  401: "The event in requested index is outdated and cleared",
};

/** The JSON body etcd writes for a v2 error (field order as etcd's). */
export interface V2ErrorJSON {
  errorCode: number;
  message: string;
  cause?: string;
  index: number;
}

const statusOf: Record<number, number> = {
  100: 404,
  101: 412,
  105: 412,
  102: 403,
  108: 403,
  110: 401,
  300: 500,
  301: 500,
};

export class V2Error extends Error {
  constructor(readonly errorCode: number, override readonly cause = "", public index = 0) {
    super(messages[errorCode] ?? "");
    this.name = "V2Error";
  }

  /** HTTP status etcd maps this code to. */
  get status(): number {
    return statusOf[this.errorCode] ?? 400;
  }

  toJSON(): V2ErrorJSON {
    const { errorCode, message, cause, index } = this;
    return cause === "" ? { errorCode, message, index } : { errorCode, message, cause, index };
  }

  /** etcd's v2 client prints errors as `<code>: <message> (<cause>) [<index>]`. */
  override toString(): string {
    return `${this.errorCode}: ${this.message} (${this.cause}) [${this.index}]`;
  }

  static fromJSON(j: V2ErrorJSON): V2Error {
    return new V2Error(j.errorCode, j.cause ?? "", j.index);
  }
}
