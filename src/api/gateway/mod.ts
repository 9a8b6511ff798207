// etcd's /v3 JSON gateway on the client port's HTTP app.
export { addGatewayRoutes } from "./gateway.ts";
export { GATEWAY_PATHS, type GatewayRoute } from "./paths.ts";
