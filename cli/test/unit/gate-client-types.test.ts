import type { hc, InferRequestType, InferResponseType } from "hono/client";
import { describe, expectTypeOf, it } from "vitest";
import type { AdminApi } from "../../../worker/src/api/routes.ts";

// The gate's GET and POST routes share one handler (worker/src/api/routes.ts). The typed client must
// still know both routes, with their inputs and answers. These are checks of types: they fail
// `npm run typecheck` (which covers cli/test), not the test run, if sharing the handler ever widened
// a route to untyped or dropped one.

type Gate = ReturnType<typeof hc<AdminApi>>["services"][":name"][":version"]["gate"];

describe("the typed client of the gate routes", () => {
  it("GET and POST take the name, version, window and answer, and answer the verdict", () => {
    expectTypeOf<InferRequestType<Gate["$get"]>["param"]>().toEqualTypeOf<{ name: string; version: string }>();
    expectTypeOf<InferRequestType<Gate["$post"]>["param"]>().toEqualTypeOf<{ name: string; version: string }>();
    expectTypeOf<InferRequestType<Gate["$get"]>["query"]>().toHaveProperty("answer");
    expectTypeOf<InferRequestType<Gate["$post"]>["query"]>().toEqualTypeOf<InferRequestType<Gate["$get"]>["query"]>();
    expectTypeOf<InferResponseType<Gate["$get"], 200>["verdict"]>().toEqualTypeOf<"pass" | "fail" | "inconclusive">();
    expectTypeOf<InferResponseType<Gate["$post"], 412>>().toEqualTypeOf<InferResponseType<Gate["$get"], 412>>();
  });
});
