// The shape of the schemas scripts/gen_proto.ts emits into generated.ts. The codecs walk these
// at run time, so adding a message means editing a .proto file and regenerating, nothing more.

export type ScalarKind =
  | "double"
  | "float"
  | "int64"
  | "uint64"
  | "int32"
  | "uint32"
  | "fixed64"
  | "fixed32"
  | "sfixed64"
  | "sfixed32"
  | "bool"
  | "string"
  | "bytes";

export type FieldKind = ScalarKind | "enum" | "message";

export interface FieldSchema {
  /** Field number on the wire. */
  no: number;
  /** Name as written in the .proto; the JSON gateway prints this one. */
  name: string;
  /** lowerCamel property name of decoded objects (also accepted in JSON input). */
  prop: string;
  kind: FieldKind;
  /** Full name of the enum or message type. */
  ref?: string;
  repeated?: true;
  /** Name of the oneof this field belongs to: decoded as absent unless it was sent. */
  oneof?: string;
  /** A 64-bit identifier (member, cluster, lease ID): decoded as bigint, not number. */
  id?: true;
}

export interface MessageSchema {
  fields: FieldSchema[];
}

/** Enum value names by number. */
export type EnumSchema = Record<string, number>;

export interface MethodSchema {
  requestType: string;
  responseType: string;
  clientStreaming: boolean;
  serverStreaming: boolean;
}

export interface ServiceSchema {
  methods: Record<string, MethodSchema>;
}

export interface ProtoSchema {
  messages: Record<string, MessageSchema>;
  enums: Record<string, EnumSchema>;
  services: Record<string, ServiceSchema>;
}

/**
 * What encoders accept: every field optional, nested messages likewise, and identifier fields
 * given as number or bigint.
 */
export type Init<T> = T extends Uint8Array ? Uint8Array
  : T extends bigint ? bigint | number
  : T extends (infer U)[] ? Init<U>[]
  : T extends object ? { [K in keyof T]?: Init<T[K]> }
  : T;
