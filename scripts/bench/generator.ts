// Generator process entry (Node bundle or `deno run`): see load.ts.
import process from "node:process";
import { main } from "./load.ts";

await main(process.argv.slice(2));
