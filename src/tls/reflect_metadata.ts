// @peculiar/x509 loads tsyringe, which refuses to start without the Reflect metadata API
// (normally the reflect-metadata package). Its decorators only store and read constructor
// parameter types, so a map per target and key is all it needs.
type Target = object;
type Key = string | symbol | undefined;

const store = new WeakMap<Target, Map<Key, Map<unknown, unknown>>>();

function own(target: Target, key: Key, create: boolean): Map<unknown, unknown> | undefined {
  let byKey = store.get(target);
  if (!byKey && create) store.set(target, byKey = new Map());
  let meta = byKey?.get(key);
  if (!meta && create && byKey) byKey.set(key, meta = new Map());
  return meta;
}

function getMetadata(name: unknown, target: Target, key?: Key): unknown {
  for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t)) {
    const meta = own(t, key, false);
    if (meta?.has(name)) return meta.get(name);
  }
  return undefined;
}

const api = {
  defineMetadata: (name: unknown, value: unknown, target: Target, key?: Key) => {
    own(target, key, true)!.set(name, value);
  },
  getOwnMetadata: (name: unknown, target: Target, key?: Key) => own(target, key, false)?.get(name),
  getMetadata,
  hasMetadata: (name: unknown, target: Target, key?: Key) =>
    getMetadata(name, target, key) !== undefined,
  metadata: (name: unknown, value: unknown) => (target: Target, key?: Key) =>
    own(target, key, true)!.set(name, value),
};

const reflect = Reflect as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(api)) {
  if (typeof reflect[name] !== "function") reflect[name] = fn;
}
