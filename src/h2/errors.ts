// HTTP/2 error codes (RFC 9113 §7) and the one error type every decoder in this folder throws, so
// a caller can turn any malformed input into the right RST_STREAM or GOAWAY.

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;
export type ErrorCode = number;

const names = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

/** The RFC name of an error code, or its hex value for codes the RFC does not define. */
export function errorCodeName(code: number): string {
  return names.get(code) ?? `0x${code.toString(16)}`;
}

/**
 * A protocol violation. `streamId` 0 means a connection error (answer with GOAWAY); a positive
 * id means only that stream is affected (answer with RST_STREAM).
 */
export class H2Error extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly streamId = 0) {
    super(message);
    this.name = "H2Error";
  }
  get isConnectionError(): boolean {
    return this.streamId === 0;
  }
}

/**
 * A header block decoded correctly but larger than the advertised SETTINGS_MAX_HEADER_LIST_SIZE.
 * The HPACK state stays in sync, so only the stream it belongs to needs to be refused.
 */
export class HeaderListSizeError extends H2Error {
  constructor(readonly size: number, readonly limit: number) {
    super(ErrorCode.PROTOCOL_ERROR, `header list size ${size} exceeds the limit ${limit}`);
    this.name = "HeaderListSizeError";
  }
}
