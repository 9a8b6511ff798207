// @peculiar/x509 behind its polyfill: import it from here so the polyfill always runs first.
import "./reflect_metadata.ts";
export * as x509 from "@peculiar/x509";
