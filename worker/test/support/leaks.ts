/** A JWT as identity providers issue them (base64url header, payload and signature), for `subject`. */
export function testJwt(subject: string): string {
  const part = (text: string) => btoa(text).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
  const header = part(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  return `${header}.${part(JSON.stringify({ sub: subject, exp: 1_900_000_000 }))}.${part(`signed-${subject}`)}`;
}

/**
 * What the test origins' `/oauth/callback` answers (see origins.ts) or is asked with that a stored
 * sample must not hold. Plain values, so that tests inside workerd can import them too.
 */
export const LEAKED = {
  code: "c0de-0f-the-grant",
  state: "st4te-0f-the-login",
  queryJwt: testJwt("query-jwt"),
  fragmentToken: "fr4gm3nt-t0k3n",
  headerJwt: testJwt("header-jwt"),
  bodyJwt: testJwt("body-jwt"),
  accessJwt: testJwt("access-jwt"),
  refresh: "r3fr3sh-of-ann",
  pass: "p4ss-of-ann",
  pin: "98761234",
  cardNumber: "4111-1111-1111-1111",
  cutSecret: "pr1vate-under-credentials",
} as const;
