// Checksums etcd's formats use: CRC-32C over WAL records, snapshot files and HashKV.
export { crc32c } from "./crc32c.ts";
