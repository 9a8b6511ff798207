// Go's net/http answers for errors, as etcd's handlers write them with http.Error.

const TEXT = "text/plain; charset=utf-8";

/** Go's http.Error: text body with a newline, and nosniff. */
export function goHttpError(status: number, text: string, headers: HeadersInit = {}): Response {
  const res = new Response(`${text}\n`, { status, headers });
  res.headers.set("content-type", TEXT);
  res.headers.set("x-content-type-options", "nosniff");
  return res;
}

/** 405 with Allow, as etcd's allowMethod helper answers. */
export function methodNotAllowed(allow: string): Response {
  return goHttpError(405, "Method Not Allowed", { allow });
}
