import { webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hmacSha256, sha256 } from "../../src/evidence/hmac.ts";

const hex = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes as ArrayBuffer).toString("hex");
const encode = (text: string) => new TextEncoder().encode(text);

describe("the synchronous HMAC-SHA-256 that redaction uses", () => {
  it("hashes like SHA-256 at every padding boundary", async () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const message = webcrypto.getRandomValues(new Uint8Array(length));
      expect(hex(sha256(message)), `${length} bytes`).toBe(hex(await webcrypto.subtle.digest("SHA-256", message)));
    }
  });

  it("signs like WebCrypto's HMAC for short, block-sized and long keys", async () => {
    for (const keyLength of [1, 32, 64, 65, 200]) {
      const key = webcrypto.getRandomValues(new Uint8Array(keyLength));
      const message = encode(`session=abc${keyLength}; token=xyz`);
      const subtleKey = await webcrypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]);
      const expected = hex(await webcrypto.subtle.sign("HMAC", subtleKey, message));
      expect(hex(hmacSha256(key, message)), `${keyLength}-byte key`).toBe(expected);
    }
  });

  it("matches the RFC 4231 test case 2", () => {
    const mac = hmacSha256(encode("Jefe"), encode("what do ya want for nothing?"));
    expect(hex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
});
