// `etcd-ts gateway ...` without the rest of main.ts, for tests run while main.ts cannot load.
import { runGatewayCommand } from "../../src/gateway/mod.ts";

const code = await runGatewayCommand(Deno.args);
Deno.exit(code);
